"""`gallery.imaging`: every format sniffed from its bytes, measured, previewed; bad bytes refused with a reason."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image

from gallery import imaging
from gallery.domain.errors import InvalidImage
from tests.helpers import sha256

LIMITS = imaging.DecodeLimits(max_pixels=50_000_000, max_frames=100)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def animated_gif(frames: int = 3, size: tuple[int, int] = (40, 30)) -> bytes:
    images = [Image.new("P", size, n) for n in range(frames)]
    for n, image in enumerate(images):
        image.putpalette([n * 40, 0, 0] * 256)
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=50, loop=0)


FORMATS: dict[str, tuple[Callable[[], bytes], str]] = {
    "png": (lambda: encode(Image.new("RGB", (300, 200), "red"), "PNG"), "image/png"),
    "jpeg": (lambda: encode(Image.new("RGB", (300, 200), "red"), "JPEG"), "image/jpeg"),
    "gif": (lambda: animated_gif(3, (300, 200)), "image/gif"),
    "webp": (lambda: encode(Image.new("RGB", (300, 200), "red"), "WEBP"), "image/webp"),
    "bmp": (lambda: encode(Image.new("RGB", (300, 200), "red"), "BMP"), "image/bmp"),
    "ico": (lambda: encode(Image.new("RGBA", (64, 64), "red"), "ICO", sizes=[(64, 64)]), "image/x-icon"),
    "tiff": (lambda: encode(Image.new("RGB", (300, 200), "red"), "TIFF"), "image/tiff"),
}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_raster_format_is_sniffed_measured_and_previewed(fmt: str) -> None:
    make, media_type = FORMATS[fmt]
    data = make()
    assert imaging.sniff(data) == media_type
    result = imaging.inspect(data, LIMITS)
    assert result.original.media_type == media_type
    assert result.original.etag == sha256(data)
    assert result.original.size == len(data)
    expected = (64, 64) if fmt == "ico" else (300, 200)
    assert (result.original.width, result.original.height) == expected
    preview = Image.open(io.BytesIO(result.preview_bytes))
    assert preview.format == "PNG"
    assert preview.size == (result.preview.width, result.preview.height) == imaging.preview_size(*expected)
    assert result.preview.etag == sha256(result.preview_bytes)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1000, 400), (250, 100)),
        ((400, 1000), (100, 250)),
        ((999, 999), (250, 250)),
        ((1000, 3), (250, 1)),
        ((225, 225), (225, 225)),
        ((251, 250), (250, 249)),
    ],
)
def test_preview_size_follows_thingsboard(size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert imaging.preview_size(*size) == expected


def test_animated_gif_keeps_its_bytes_and_previews_the_first_frame() -> None:
    data = animated_gif(5)
    result = imaging.inspect(data, LIMITS)
    assert result.original.media_type == "image/gif"
    preview = Image.open(io.BytesIO(result.preview_bytes))
    assert getattr(preview, "n_frames", 1) == 1


def test_too_many_frames_are_refused() -> None:
    with pytest.raises(InvalidImage, match="frames"):
        imaging.inspect(animated_gif(5), imaging.DecodeLimits(max_pixels=10_000, max_frames=4))


def test_exif_orientation_is_honoured() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = encode(Image.new("RGB", (600, 300), "blue"), "JPEG", exif=exif.tobytes())
    result = imaging.inspect(data, LIMITS)
    assert (result.original.width, result.original.height) == (300, 600)
    assert (result.preview.width, result.preview.height) == (125, 250)
    assert Image.open(io.BytesIO(result.preview_bytes)).size == (125, 250)


def test_alpha_survives_in_the_preview() -> None:
    data = encode(Image.new("RGBA", (500, 500), (255, 0, 0, 0)), "PNG")
    preview = Image.open(io.BytesIO(imaging.inspect(data, LIMITS).preview_bytes))
    assert preview.mode == "RGBA"
    assert preview.getpixel((10, 10))[3] == 0  # type: ignore[index]


@pytest.mark.parametrize(
    "image",
    [
        Image.new("CMYK", (400, 300)),
        Image.new("I;16", (400, 300)),
        Image.new("L", (400, 300)),
        Image.new("1", (400, 300)),
    ],
    ids=["cmyk", "16-bit", "grey", "1-bit"],
)
def test_unusual_modes_preview(image: Image.Image) -> None:
    fmt = "JPEG" if image.mode == "CMYK" else "PNG"
    result = imaging.inspect(encode(image, fmt), LIMITS)
    assert (result.preview.width, result.preview.height) == (250, 187)


def test_small_png_is_its_own_preview() -> None:
    data = encode(Image.new("RGB", (100, 50)), "PNG")
    result = imaging.inspect(data, LIMITS)
    assert result.preview == result.original
    assert result.preview_bytes is data


def test_small_jpeg_gets_a_png_preview_of_the_same_size() -> None:
    data = encode(Image.new("RGB", (225, 225)), "JPEG")
    result = imaging.inspect(data, LIMITS)
    assert (result.preview.media_type, result.preview.width, result.preview.height) == ("image/png", 225, 225)
    assert result.preview.etag != result.original.etag


TRUNCATIONS = {
    "png": encode(Image.effect_noise((300, 300), 50), "PNG"),
    "jpeg": encode(Image.effect_noise((600, 400), 50).convert("RGB"), "JPEG"),
    "gif": animated_gif(4, (200, 200)),
    "webp": encode(Image.effect_noise((300, 300), 50).convert("RGB"), "WEBP"),
}


@pytest.mark.parametrize("fmt", list(TRUNCATIONS))
def test_truncated_images_are_refused(fmt: str) -> None:
    data = TRUNCATIONS[fmt]
    imaging.inspect(data, LIMITS)  # the whole file is fine
    with pytest.raises(InvalidImage):
        imaging.inspect(data[: len(data) * 2 // 3], LIMITS)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello world",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
        b"\xff\xd8\xff" + b"junk" * 10,
        b"RIFF\0\0\0\0WEBPjunk",
        b"GIF89a" + b"\0" * 3,
    ],
    ids=["empty", "text", "png-header-only", "jpeg-junk", "webp-junk", "gif-stub"],
)
def test_non_images_and_corrupt_headers_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidImage):
        imaging.inspect(data, LIMITS)


def test_pixel_limit_is_checked_before_decoding() -> None:
    bomb = encode(Image.new("1", (20_000, 20_000)), "PNG")  # ~50 KB declaring 400 megapixels
    assert len(bomb) < 100_000
    with pytest.raises(InvalidImage, match="pixels"):
        imaging.inspect(bomb, LIMITS)
    with pytest.raises(InvalidImage, match="limit is 10000 pixels"):
        imaging.inspect(encode(Image.new("RGB", (101, 100)), "PNG"), imaging.DecodeLimits(10_000, 10))


def test_sniffing_ignores_everything_but_the_bytes() -> None:
    assert imaging.sniff(encode(Image.new("RGB", (5, 5)), "PNG")) == "image/png"
    assert imaging.sniff(b"<html><body>not an image</body></html>") is None


SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'


@pytest.mark.parametrize(
    ("document", "size"),
    [
        (f'<svg {SVG_NS} width="120" height="40"/>', (120, 40)),
        (f'<svg {SVG_NS} width="120px" height="40.4px"/>', (120, 40)),
        (f'<svg {SVG_NS} width="1in" height="72pt"/>', (96, 96)),
        (f'<svg {SVG_NS} viewBox="0 0 64 32"/>', (64, 32)),
        (f'<svg {SVG_NS} width="100%" height="100%" viewBox="0,0,10,20"/>', (10, 20)),
        (f'<?xml version="1.0"?>\n<!-- made by hand -->\n<svg {SVG_NS}/>', (0, 0)),
        (
            '<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
            f'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg {SVG_NS} width="5" height="6"/>',
            (5, 6),
        ),
    ],
)
def test_svg_size_comes_from_the_document(document: str, size: tuple[int, int]) -> None:
    data = document.encode()
    result = imaging.inspect(data, LIMITS)
    assert result.original.media_type == "image/svg+xml"
    assert (result.original.width, result.original.height) == size
    assert result.preview_bytes == data


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            f"<svg {SVG_NS}>&lol2;</svg>",
            "forbidden XML",
        ),
        (
            f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><svg {SVG_NS}>&xxe;</svg>',
            "forbidden XML",
        ),
        (f"<svg {SVG_NS}><rect></svg>", "well-formed"),
    ],
)
def test_unsafe_or_broken_svg_is_refused(document: str, reason: str) -> None:
    with pytest.raises(InvalidImage, match=reason):
        imaging.inspect(document.encode(), LIMITS)


def test_xml_that_is_not_svg_is_refused() -> None:
    assert imaging.sniff(b"<html/>") is None
    with pytest.raises(InvalidImage):
        imaging.inspect(b'<?xml version="1.0"?><svg:x xmlns:svg="urn:not-svg"/>', LIMITS)


def _transparent_palette() -> bytes:
    image = Image.new("P", (20, 20), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] * 128)
    return encode(image, "GIF", transparency=0)


@pytest.mark.parametrize(
    ("make", "see_through"),
    [
        (lambda: encode(Image.new("RGBA", (300, 200), (1, 2, 3, 128)), "PNG"), True),
        (lambda: encode(Image.new("RGBA", (60, 60), (1, 2, 3, 0)), "WEBP", lossless=True), True),
        (_transparent_palette, True),
        (lambda: encode(Image.new("RGB", (300, 200), "red"), "PNG"), False),
        (lambda: encode(Image.new("RGB", (300, 200), "red"), "JPEG"), False),
        (lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', False),
    ],
    ids=["rgba-png", "rgba-webp", "gif-transparent-colour", "rgb-png", "jpeg", "svg"],
)
def test_inspection_says_whether_the_picture_is_see_through(make: Callable[[], bytes], see_through: bool) -> None:
    """What the static build's renditions fall back to (PNG or JPEG) is known from the upload, not a later decode."""
    assert imaging.inspect(make(), LIMITS).has_alpha is see_through
