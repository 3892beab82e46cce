"""The image formats the gallery takes, declared once: what sniffing recognises, the type the bytes are served with,
the extension a site file gets, the name people read, and whether it is a raster. Sniffing (`imaging/formats.py`),
serving headers (`serving.py`), the static site, the OpenAPI document and the management page's file picker all read
this table; a test holds every other module to spelling no image media type of its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageFormat:
    media_type: str
    extension: str  # what a file of ours in this format is named with
    name: str  # as people read it
    pillow: str | None  # Pillow's name for it (None: not decoded by Pillow)
    file_names: tuple[str, ...]  # the extensions a user's file in this format may carry

    @property
    def raster(self) -> bool:
        return self.pillow is not None


PNG = ImageFormat("image/png", "png", "PNG", "PNG", ("png",))
JPEG = ImageFormat("image/jpeg", "jpg", "JPEG", "JPEG", ("jpg", "jpeg"))
GIF = ImageFormat("image/gif", "gif", "GIF", "GIF", ("gif",))
WEBP = ImageFormat("image/webp", "webp", "WebP", "WEBP", ("webp",))
BMP = ImageFormat("image/bmp", "bmp", "BMP", "BMP", ("bmp",))
ICO = ImageFormat("image/x-icon", "ico", "ICO", "ICO", ("ico",))
TIFF = ImageFormat("image/tiff", "tiff", "TIFF", "TIFF", ("tif", "tiff"))
SVG = ImageFormat("image/svg+xml", "svg", "SVG", None, ("svg",))

FORMATS = (PNG, JPEG, GIF, WEBP, BMP, ICO, TIFF, SVG)
BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS}
MEDIA_TYPES = tuple(f.media_type for f in FORMATS)
RASTER_TYPES = frozenset(f.media_type for f in FORMATS if f.raster)
# "PNG, JPEG, GIF, WebP, BMP, ICO, TIFF and SVG": what an error about an unsupported file lists.
SUPPORTED = ", ".join(f.name for f in FORMATS[:-1]) + f" and {FORMATS[-1].name}"


def name_of(media_type: str) -> str:
    """The name people read for a type ("JPEG"); an unknown type as it is."""
    found = BY_MEDIA_TYPE.get(media_type)
    return found.name if found else media_type
