"""Web renditions of one image for the static gallery: a few widths, each in WebP and a JPEG or PNG fallback.

Pure functions (no storage, no MkDocs), safe to run in worker processes. An image is decoded once, at the smallest
JPEG draft scale that still leaves headroom for the largest rendition, and each smaller width is resized from the
one above it. Names are content-hashed: they derive from the source's SHA-256, the widths and `RENDER_VERSION`,
so they can be known (and found already made) without decoding anything, and a published file never changes.

Renditions are sRGB and carry no colour profile (nor any of the original's metadata): a browser takes an untagged
picture as sRGB. A picture in another colour space (a phone's Display P3, a camera's Adobe RGB, a CMYK print file)
has its colours converted from its embedded profile, so it does not come out dull or shifted.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
from itertools import chain, product

from PIL import Image, ImageChops, ImageCms, ImageFile, ImageOps

from gallery.domain import formats
from gallery.domain.model import ImageInfo
from gallery.imaging import SVG, DecodeLimits, alpha_mode, decoding, displayed_size, open_raster, raster_format

# Bump when the output of `render` changes for the same input, so new names replace old files everywhere.
RENDER_VERSION = "6"
DEFAULT_WIDTHS = (320, 640, 1280)
WEBP = formats.WEBP.media_type
WEBP_QUALITY = 80
# libwebp's effort: method 0 is four times faster than 4 and measured the same PSNR at q80 (31.50 vs 31.46 dB at
# 1280 px) for 3% more bytes; below ~150,000 pixels (the index's thumbnails, 48 to a page) method 2 saves a fifth of
# the bytes for half a millisecond (`python -m benchmarks.rendition_quality`).
WEBP_METHOD_LARGE, WEBP_METHOD_SMALL, WEBP_SMALL_PIXELS = 0, 2, 150_000
JPEG_QUALITY = 82
# With WebP, one fallback (JPEG or PNG) for the browsers without it: the widest rendition up to this width.
FALLBACK_WIDTH = 640
FAST_DECODE_RATIO = 1.5


@dataclass(frozen=True)
class Rendition:
    name: str  # file name, content-hashed: `<hash>-<width>.<ext>`
    width: int
    height: int
    media_type: str


@dataclass(frozen=True)
class RenditionPlan:
    """What `render` will produce for an image, known from its catalog row alone (type, size, transparency)."""

    renditions: tuple[Rendition, ...]

    @property
    def webp(self) -> tuple[Rendition, ...]:
        return tuple(r for r in self.renditions if r.media_type == WEBP)

    @property
    def fallback(self) -> tuple[Rendition, ...]:
        return tuple(r for r in self.renditions if r.media_type != WEBP)


def scaled_height(width: int, height: int, target: int) -> int:
    return max(1, round(height * target / width))


def plan(
    etag: str, media_type: str, width: int, height: int, has_alpha: bool, widths: tuple[int, ...], webp: bool = True
) -> RenditionPlan:
    """The renditions of an image of this size. SVG gets none: it is served as a file and scales by itself.
    Widths above the image's own are dropped (no upscaling); an image narrower than every width gets one rendition
    at its own width. With WebP every width has one and a single fallback serves the rare browser without it (every
    maintained browser decodes WebP); without WebP every width is a JPEG or PNG."""
    if media_type == SVG or width < 1 or height < 1:
        return RenditionPlan(())
    chosen = sorted({w for w in widths if w < width}) or [width]
    if width <= max(widths) and width not in chosen and chosen[-1] < width:
        chosen.append(width)
    spec = f"{etag}:{','.join(map(str, widths))}:{webp}:{RENDER_VERSION}"
    digest = hashlib.sha256(spec.encode()).hexdigest()[:16]
    fallback = formats.PNG if has_alpha else formats.JPEG
    fallback_ext, fallback_type = fallback.extension, fallback.media_type
    fitting = [w for w in chosen if w <= FALLBACK_WIDTH]
    fallback_widths = {fitting[-1] if fitting else chosen[0]} if webp else set(chosen)
    renditions = []
    for target in chosen:
        h = scaled_height(width, height, target)
        if webp:
            renditions.append(Rendition(f"{digest}-{target}.webp", target, h, WEBP))
        if target in fallback_widths:
            renditions.append(Rendition(f"{digest}-{target}.{fallback_ext}", target, h, fallback_type))
    return RenditionPlan(tuple(renditions))


def plan_for(image: ImageInfo, widths: tuple[int, ...], webp: bool = True) -> RenditionPlan | None:
    """The plan from the catalog row; None when the row does not say whether the image is see-through (stored
    before that was recorded): only rendering it can tell."""
    original = image.original
    if original.media_type == SVG:
        return RenditionPlan(())
    if image.has_alpha is None:
        return None
    return plan(image.etag, original.media_type, original.width, original.height, image.has_alpha, widths, webp)


@dataclass(frozen=True)
class Rendered:
    plan: RenditionPlan
    files: dict[str, bytes]  # by rendition name
    has_alpha: bool  # as decoding found it (what a row from before it was recorded lacks)


def render(data: bytes, etag: str, widths: tuple[int, ...], webp: bool, limits: DecodeLimits) -> Rendered:
    """Open the image once and make every rendition. Animated images give their first frame (the page shows the
    original, which stays animated); SVG gives none."""
    raster = raster_format(data)
    if raster is None:
        return Rendered(RenditionPlan(()), {}, False)
    with decoding(raster[0]):
        image = open_raster(data, raster[0], limits)
        displayed = displayed_size(image)
        has_alpha = alpha_mode(image) == "RGBA"
        rendition_plan = plan(etag, raster[1], displayed[0], displayed[1], has_alpha, widths, webp)
        largest = max((r.width for r in rendition_plan.renditions), default=0)
        if image.format == "JPEG":
            _draft(image, displayed, largest)
        image.seek(0)
        image.load()
        frame = ImageOps.exif_transpose(image) if image.getexif().get(0x0112, 1) != 1 else image
        frame = _in_srgb(frame, alpha_mode(frame), image.info.get("icc_profile"))
        # Pillow's encoders would copy some of it (a JPEG's comment, a PNG's profile) into every rendition.
        frame.info = {}
    out: dict[str, bytes] = {}
    current = frame
    for width, height in sorted({(r.width, r.height) for r in rendition_plan.renditions}, reverse=True):
        if current.size != (width, height):
            current = current.resize((width, height), _filter(current.width / width, has_alpha), reducing_gap=1.0)
        for rendition in (r for r in rendition_plan.renditions if r.width == width):
            out[rendition.name] = _encode(current, rendition.media_type)
    return Rendered(rendition_plan, out, has_alpha)


def _in_srgb(frame: Image.Image, mode: str, profile: bytes | None) -> Image.Image:
    """The frame in `mode` (RGB or RGBA), its colours converted from its embedded profile to sRGB; as it is (in
    `mode`) when it has no profile, an sRGB one, or one that cannot be used (taken for sRGB: a broken profile must
    not fail a build)."""
    cms_mode = frame.mode if frame.mode in _CMS_MODES else _GREY_MODES.get(frame.mode, mode)
    transform = _to_srgb(profile, cms_mode) if profile else None
    if transform is None:
        return frame if frame.mode == mode else frame.convert(mode)
    converted = transform.apply(frame if frame.mode == cms_mode else frame.convert(cms_mode))
    if converted.mode != mode:  # grey, CMYK or RGB that is see-through (with its alpha, or a transparent colour)
        converted.putalpha(frame.convert("RGBA").getchannel("A"))
    return converted


# The modes the colour transform takes; others are converted to one of them first: greys to L, the rest (palettes,
# YCbCr, LAB) to RGB or RGBA. An RGBA picture keeps its alpha through the transform; others get theirs back after.
_CMS_MODES = frozenset({"RGB", "RGBA", "L", "CMYK"})
_GREY_MODES = {"1": "L", "LA": "L", "La": "L", "I": "L", "I;16": "L", "I;16B": "L", "I;16L": "L", "F": "L"}


@functools.lru_cache(maxsize=16)
def _to_srgb(profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """The transform from `profile` to sRGB for pictures in `mode`, built once per profile (a camera's pictures
    share theirs; the cache keeps 16, by their bytes); None when it would move no colour by more than a level — an
    sRGB profile, however it is written — or when the profile cannot be read or does not fit the mode.

    Relative colorimetric with black point compensation, as photo editors convert: the matrix profiles cameras and
    phones embed (Display P3, Adobe RGB) give the same with every intent, and perceptual from the v4 sRGB profile
    lifted blacks by 100 levels."""
    output = "RGBA" if mode == "RGBA" else "RGB"
    try:
        transform = ImageCms.buildTransform(
            ImageCms.ImageCmsProfile(io.BytesIO(profile)),
            ImageCms.createProfile("sRGB"),
            mode,
            output,
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
        )
    except (ImageCms.PyCMSError, OSError):
        return None
    probe = _probe(mode)
    moved = ImageChops.difference(transform.apply(probe).convert("RGB"), probe.convert("RGB"))
    return transform if max(moved.tobytes()) > 1 else None


def _probe(mode: str) -> Image.Image:
    """Colours that tell an sRGB profile from another: every 17th level of each band in RGB (4,096 colours), every
    grey, every 51st level of each ink."""
    bands, step = {"RGB": (3, 17), "RGBA": (3, 17), "L": (1, 1), "CMYK": (4, 51)}[mode]
    colours = bytes(chain.from_iterable(product(range(0, 256, step), repeat=bands)))
    probe = Image.frombytes("RGB" if mode == "RGBA" else mode, (len(colours) // bands, 1), colours)
    return probe.convert(mode)


def _filter(shrink: float, lossless: bool) -> Image.Resampling:
    """Chosen by what survives the encoding, against a full-resolution Lanczos reference: a large step into a lossy
    rendition takes Hamming (after JPEG q82 32.08 dB where Lanczos' own scores 32.19 dB, a third cheaper than
    bicubic). The short step left after a JPEG draft, and every step of a lossless (PNG) rendition, take bicubic:
    bilinear is cheaper but blurs (a third fewer WebP bytes, 0.5 dB lower, worse per byte as well).
    reducing_gap=1.0 (at the call) makes a box reduction do any halving first."""
    if shrink >= FAST_DECODE_RATIO and not lossless:
        return Image.Resampling.HAMMING
    return Image.Resampling.BICUBIC


def _draft(image: Image.Image, displayed: tuple[int, int], largest: int) -> None:
    """DCT scaling (1/2, 1/4, 1/8) to the smallest scale still as wide as the largest rendition: entropy decoding
    is all that is left of most of the decoding cost, and the resample after it is short (a 3000 px photo decodes
    at 1500 px for 1280 px renditions, in two thirds of the full decode's time)."""
    factor = min(1.0, largest / displayed[0])
    target = (int(displayed[0] * factor), int(displayed[1] * factor))
    stored = target if displayed == image.size else (target[1], target[0])
    image.draft("RGB", stored)
    if isinstance(image, ImageFile.ImageFile) and min(image.size) >= FAST_DECODE_RATIO * min(
        rendition_size(largest, displayed)
    ):
        # Pillow's draft flag: libjpeg's fastest DCT and plain chroma upsampling (~20% less decoding). Only when
        # the result shrinks by 1.5x or more, where the difference is resampled away (measured: 44.8 dB against a
        # full-resolution Lanczos reference, 46.3 dB without it).
        image.decoderconfig = (image.decoderconfig[0], 1)


def rendition_size(width: int, displayed: tuple[int, int]) -> tuple[int, int]:
    """The displayed size of a rendition `width` wide, as a (width, height) pair."""
    return width, scaled_height(displayed[0], displayed[1], width)


def _encode(image: Image.Image, media_type: str) -> bytes:
    buffer = io.BytesIO()
    if media_type == WEBP:
        small = image.width * image.height < WEBP_SMALL_PIXELS
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD_SMALL if small else WEBP_METHOD_LARGE)
    elif media_type == formats.PNG.media_type:
        image.save(buffer, "PNG", compress_level=6)
    else:
        # Optimised Huffman tables get most of progressive JPEG's size saving at a fifth of its encoding time.
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()
