"""Web renditions of one image for the static gallery: a few widths, each in WebP and a JPEG or PNG fallback.

Pure functions (no storage, no MkDocs), safe to run in worker processes. An image is decoded once, at the smallest
JPEG draft scale that still leaves headroom for the largest rendition, and each smaller width is resized from the
one above it. Names are content-hashed: they derive from the source's SHA-256, the widths and `RENDER_VERSION`,
so they can be known (and found already made) without decoding anything, and a published file never changes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from gallery.imaging import SVG, Limits, alpha_mode, decoding, displayed_size, open_raster, raster_format

# Bump when the output of `render` changes for the same input, so new names replace old files everywhere.
RENDER_VERSION = "1"
DEFAULT_WIDTHS = (320, 640, 1280)
WEBP = "image/webp"
WEBP_QUALITY = 80
JPEG_QUALITY = 82
DRAFT_HEADROOM = 1.25


@dataclass(frozen=True)
class Rendition:
    name: str  # file name, content-hashed: `<hash>-<width>.<ext>`
    width: int
    height: int
    media_type: str


@dataclass(frozen=True)
class Plan:
    """What `render` will make for an image, computed from its descriptor alone."""

    renditions: tuple[Rendition, ...]

    @property
    def webp(self) -> tuple[Rendition, ...]:
        return tuple(r for r in self.renditions if r.media_type == WEBP)

    @property
    def fallback(self) -> tuple[Rendition, ...]:
        return tuple(r for r in self.renditions if r.media_type != WEBP)

    @property
    def thumbnail(self) -> Rendition | None:
        """The smallest fallback: what a grid card shows where WebP is not understood."""
        return self.fallback[0] if self.fallback else None


def scaled_height(width: int, height: int, target: int) -> int:
    return max(1, round(height * target / width))


def plan(
    etag: str, media_type: str, width: int, height: int, has_alpha: bool, widths: tuple[int, ...], webp: bool = True
) -> Plan:
    """The renditions of an image of this size. SVG gets none: it is served as a file and scales by itself.
    Widths above the image's own are dropped (no upscaling); an image narrower than every width gets one rendition
    at its own width."""
    if media_type == SVG or width < 1 or height < 1:
        return Plan(())
    chosen = sorted({w for w in widths if w < width}) or [width]
    if width <= max(widths) and width not in chosen and chosen[-1] < width:
        chosen.append(width)
    spec = f"{etag}:{','.join(map(str, widths))}:{webp}:{RENDER_VERSION}"
    digest = hashlib.sha256(spec.encode()).hexdigest()[:16]
    fallback_ext, fallback_type = ("png", "image/png") if has_alpha else ("jpg", "image/jpeg")
    renditions = []
    for target in chosen:
        h = scaled_height(width, height, target)
        if webp:
            renditions.append(Rendition(f"{digest}-{target}.webp", target, h, WEBP))
        renditions.append(Rendition(f"{digest}-{target}.{fallback_ext}", target, h, fallback_type))
    return Plan(tuple(renditions))


def probe(data: bytes, limits: Limits) -> tuple[str, int, int, bool]:
    """Media type, displayed width and height, and whether it has transparency, from the header alone."""
    raster = raster_format(data)
    if raster is None:
        return SVG, 0, 0, False
    with decoding(raster[0]):
        image = open_raster(data, raster[0], limits)
        width, height = displayed_size(image)
        return raster[1], width, height, alpha_mode(image) == "RGBA"


def render(data: bytes, the_plan: Plan, limits: Limits) -> dict[str, bytes]:
    """The bytes of every rendition in the plan, by name. Animated images give their first frame (the page shows
    the original, which stays animated)."""
    if not the_plan.renditions:
        return {}
    raster = raster_format(data)
    if raster is None:
        return {}
    largest = max(r.width for r in the_plan.renditions)
    with decoding(raster[0]):
        image = open_raster(data, raster[0], limits)
        displayed = displayed_size(image)
        if image.format == "JPEG":
            # DCT scaling (1/2, 1/4, 1/8) to no less than 1.25x the largest width: most of the decode and resize
            # cost goes, and the final Lanczos step still has headroom.
            factor = min(1.0, DRAFT_HEADROOM * largest / displayed[0])
            target = (int(displayed[0] * factor), int(displayed[1] * factor))
            stored = target if displayed == image.size else (target[1], target[0])
            image.draft("RGB", stored)
        image.seek(0)
        image.load()
        frame = ImageOps.exif_transpose(image) if image.getexif().get(0x0112, 1) != 1 else image
        mode = alpha_mode(frame)
        if frame.mode != mode:
            frame = frame.convert(mode)
    out: dict[str, bytes] = {}
    by_width = sorted({(r.width, r.height) for r in the_plan.renditions}, reverse=True)
    current = frame
    for width, height in by_width:
        if current.size != (width, height):
            # reducing_gap=1.0: where a step halves the size or more, a box reduction does that part first
            # (a fraction of Lanczos' cost), then Lanczos finishes from at most twice the target.
            current = current.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=1.0)
        for rendition in (r for r in the_plan.renditions if r.width == width):
            out[rendition.name] = _encode(current, rendition.media_type)
    return out


def _encode(image: Image.Image, media_type: str) -> bytes:
    buffer = io.BytesIO()
    if media_type == WEBP:
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    elif media_type == "image/png":
        image.save(buffer, "PNG", compress_level=6)
    else:
        # Optimised Huffman tables get most of progressive JPEG's size saving at a fifth of its encoding time.
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()
