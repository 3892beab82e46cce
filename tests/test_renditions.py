"""Renditions for the static site: what is planned from a catalog row, what rendering makes, and that the fast path
(draft decode, short resample, WebP at low effort) keeps the quality of the slow one."""

from __future__ import annotations

import io
import math
import random
import struct

import pytest
from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageFilter

from gallery.imaging import DecodeLimits
from gallery.site.renditions import WEBP, plan, render

WIDTHS = (320, 640, 1280)


def widths_of(rendition_plan: object, kind: str) -> list[int]:
    renditions = rendition_plan.renditions  # type: ignore[attr-defined]
    return [r.width for r in renditions if (r.media_type == WEBP) == (kind == "webp")]


@pytest.mark.parametrize(
    ("width", "webp_widths", "fallback_widths"),
    [(3000, [320, 640, 1280], [640]), (500, [320, 500], [500]), (200, [200], [200]), (1280, [320, 640, 1280], [640])],
)
def test_with_webp_every_width_has_one_and_a_single_fallback_serves_the_rest(
    width: int, webp_widths: list[int], fallback_widths: list[int]
) -> None:
    made = plan("e" * 64, "image/jpeg", width, width // 2, False, WIDTHS)
    assert widths_of(made, "webp") == webp_widths
    assert widths_of(made, "fallback") == fallback_widths
    assert {r.media_type for r in made.fallback} == {"image/jpeg"}


def test_without_webp_every_width_is_a_jpeg_or_a_png() -> None:
    assert widths_of(plan("e" * 64, "image/jpeg", 3000, 2000, False, WIDTHS, webp=False), "fallback") == list(WIDTHS)
    see_through = plan("e" * 64, "image/png", 3000, 2000, True, WIDTHS, webp=False)
    assert {r.media_type for r in see_through.renditions} == {"image/png"}


def photo(width: int, height: int, seed: int = 7) -> bytes:
    """A photo stand-in with detail at every scale: gradient, noise, hard-edged shapes, a slight blur."""
    rnd = random.Random(seed)
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 40) for _ in range(3)])
    image = Image.blend(Image.linear_gradient("L").convert("RGB").resize((width, height)), noise, 0.5)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rnd.randrange(width), rnd.randrange(height)
        draw.ellipse((x, y, x + rnd.randrange(50, 600), y + rnd.randrange(50, 600)), fill=(rnd.randrange(256), 90, 30))
    out = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(0.6)).save(out, "JPEG", quality=90)
    return out.getvalue()


def psnr(a: Image.Image, b: Image.Image) -> float:
    histogram = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).histogram()
    squares = sum(i * i * n for band in range(3) for i, n in enumerate(histogram[band * 256 : (band + 1) * 256]))
    return 10 * math.log10(255**2 / (squares / (a.width * a.height * 3)))


def test_renditions_keep_the_quality_of_a_full_decode_resampled_with_lanczos_and_encoded_with_full_effort() -> None:
    data = photo(2600, 1700)
    made = render(data, "e" * 64, WIDTHS, True, DecodeLimits(50_000_000, 100))
    assert set(made.files) == {r.name for r in made.plan.renditions}
    full = Image.open(io.BytesIO(data))
    full.load()
    for rendition in made.plan.renditions:
        with Image.open(io.BytesIO(made.files[rendition.name])) as ours:
            assert ours.size == (rendition.width, rendition.height)
            assert ours.format == ("WEBP" if rendition.media_type == WEBP else "JPEG")
            ours.load()
            reference = full.resize(ours.size, Image.Resampling.LANCZOS)
            # The slow path: every pixel decoded, Lanczos, the encoder at its default effort.
            slow = io.BytesIO()
            if rendition.media_type == WEBP:
                reference.save(slow, "WEBP", quality=80, method=4)
            else:
                reference.save(slow, "JPEG", quality=82, optimize=True)
            slow_score = psnr(Image.open(slow), reference)
            print(rendition.name, round(psnr(ours, reference), 2), round(slow_score, 2))
            # A wrong draft scale or a cheap filter costs several dB; the fast path measured 0.2-0.5 dB below.
            assert psnr(ours, reference) >= slow_score - 0.6, rendition


# Colour: renditions are sRGB, converted from the picture's own profile when it has another.
SRGB = ImageCms.createProfile("sRGB")
LIMITS = DecodeLimits(50_000_000, 100)
# Display P3's primaries, adapted to D50 as ICC profiles hold them (Apple's "Display P3" profile).
P3_COLORANTS = {
    b"rXYZ": (0.515102, 0.241182, -0.001050),
    b"gXYZ": (0.291965, 0.692236, 0.041882),
    b"bXYZ": (0.157153, 0.066582, 0.784378),
}


def icc_tags(profile: bytes) -> dict[bytes, tuple[int, int]]:
    """Where each tag of an ICC profile is: signature → (offset, size)."""
    (count,) = struct.unpack_from(">I", profile, 128)
    return {
        signature: (offset, size)
        for signature, offset, size in (struct.unpack_from(">4sII", profile, 132 + 12 * n) for n in range(count))
    }


def srgb_with(colorants: dict[bytes, tuple[int, int, int]]) -> bytes:
    """Pillow's sRGB profile with other colorants (XYZ in s15Fixed16): Pillow builds no other RGB profile."""
    profile = bytearray(ImageCms.ImageCmsProfile(SRGB).tobytes())
    for signature, (offset, _) in icc_tags(bytes(profile)).items():
        if signature in colorants:
            struct.pack_into(">3i", profile, offset + 8, *colorants[signature])
    profile[84:100] = bytes(16)  # the profile's ID, a digest of what it was
    return bytes(profile)


def display_p3() -> bytes:
    """Display P3 as far as a picture's colours go: its primaries, with sRGB's tone curve and white, as it has."""
    return srgb_with(
        {tag: (round(x * 65536), round(y * 65536), round(z * 65536)) for tag, (x, y, z) in P3_COLORANTS.items()}
    )


def srgb_written_otherwise() -> bytes:
    """sRGB as another maker writes it, its red off in the fourth decimal: no colour moves by more than a level."""
    srgb = ImageCms.ImageCmsProfile(SRGB).tobytes()
    x, y, z = struct.unpack_from(">3i", srgb, icc_tags(srgb)[b"rXYZ"][0] + 8)
    return srgb_with({b"rXYZ": (x + 16, y + 16, z)})


def linear_grey() -> bytes:
    """A grey profile with a straight tone curve (gamma 1.0), written out: Pillow builds no grey profile."""
    d50 = struct.pack(">3i", 0xF6D6, 0x10000, 0xD32D)
    white = b"XYZ " + bytes(4) + d50
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 0x0100) + bytes(2)
    tags = [(b"wtpt", white), (b"kTRC", curve)]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for signature, content in tags:
        table += struct.pack(">4sII", signature, offset + len(data), len(content))
        data += content
    header = struct.pack(">I4sI4s4s4s12s4s", 128 + 4 + len(table) + len(data), b"lcms", 0x02100000, b"mntr",
                         b"GRAY", b"XYZ ", bytes(12), b"acsp")  # fmt: skip
    header = header.ljust(68, b"\x00") + d50
    return header.ljust(128, b"\x00") + struct.pack(">I", len(tags)) + table + data


def in_srgb(colour: tuple[int, ...], mode: str, profile: bytes) -> tuple[int, ...]:
    """What ImageCms makes of one colour, converted as renditions convert."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    pixel = Image.new(mode, (1, 1), colour)
    converted = ImageCms.profileToProfile(
        pixel, source, SRGB, renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC, outputMode="RGB",
        flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
    )  # fmt: skip
    assert converted is not None
    return tuple(converted.getpixel((0, 0)))  # type: ignore[arg-type]


def centre(data: bytes) -> tuple[int, ...]:
    with Image.open(io.BytesIO(data)) as image:
        return tuple(image.convert("RGBA").getpixel((image.width // 2, image.height // 2)))  # type: ignore[arg-type]


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mode", "fmt", "colour"),
    [
        ("RGB", "JPEG", (200, 100, 50)),
        ("RGB", "JPEG", (60, 150, 210)),
        ("RGB", "WEBP", (200, 100, 50)),
        ("RGBA", "PNG", (200, 100, 50, 128)),
        ("P", "PNG", (200, 100, 50)),
        ("RGB", "JPEG", (255, 0, 0)),  # outside sRGB: it clips to sRGB's own red, as ImageCms clips it
    ],
)
def test_a_wide_gamut_picture_comes_out_in_srgb_as_imagecms_converts_it(
    mode: str, fmt: str, colour: tuple[int, ...]
) -> None:
    p3 = display_p3()
    image = Image.new("RGBA" if mode == "RGBA" else "RGB", (800, 500), colour)
    if mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE)
    data = encoded(image, fmt, icc_profile=p3, quality=95)
    expected = in_srgb(colour[:3], "RGB", p3)
    if colour != (255, 0, 0):  # else the test could not tell a conversion from none
        assert max(abs(a - b) for a, b in zip(expected, colour, strict=False)) >= 15
    made = render(data, "e" * 64, WIDTHS, True, LIMITS)
    for name, rendition in made.files.items():
        got = centre(rendition)
        assert max(abs(a - b) for a, b in zip(got, expected, strict=False)) <= 3, (name, got, expected)
        if mode == "RGBA":
            assert abs(got[3] - colour[3]) <= 2, name


def test_a_grey_picture_with_its_own_tone_curve_comes_out_in_srgb() -> None:
    grey = linear_grey()
    data = encoded(Image.new("L", (400, 300), 64), "PNG", icc_profile=grey)
    expected = in_srgb((64,), "L", grey)
    assert expected[0] > 64 + 40  # a linear 64 is a light grey in sRGB
    for name, rendition in render(data, "e" * 64, WIDTHS, True, LIMITS).files.items():
        assert max(abs(a - b) for a, b in zip(centre(rendition), expected, strict=False)) <= 3, name


def picture(mode: str) -> Image.Image:
    """Noise: colours from all over, so that a transform that moved any by a level would show."""
    image = Image.frombytes("RGB", (900, 600), random.Random(0).randbytes(900 * 600 * 3)).convert(mode)
    if mode == "RGBA":
        image.putalpha(Image.linear_gradient("L").resize(image.size))
    return image


@pytest.mark.parametrize(
    ("mode", "fmt", "profile"),
    [
        ("RGB", "JPEG", ImageCms.ImageCmsProfile(SRGB).tobytes()),
        ("RGBA", "PNG", ImageCms.ImageCmsProfile(SRGB).tobytes()),
        ("RGBA", "PNG", srgb_written_otherwise()),
        ("RGB", "JPEG", b"not a colour profile" * 20),
        ("CMYK", "JPEG", display_p3()),  # a profile of another colour space than the picture's
        ("L", "PNG", display_p3()),
    ],
    ids=["srgb", "srgb with alpha", "srgb written otherwise", "broken", "rgb profile on cmyk", "rgb profile on grey"],
)
def test_a_picture_in_srgb_or_with_a_profile_that_cannot_be_used_renders_as_one_without(
    mode: str, fmt: str, profile: bytes
) -> None:
    """Byte for byte: no transform is applied, so nothing is slower and nothing moves by a level."""
    image = picture(mode)
    plain = render(encoded(image, fmt), "e" * 64, WIDTHS, True, LIMITS)
    tagged = render(encoded(image, fmt, icc_profile=profile), "e" * 64, WIDTHS, True, LIMITS)
    assert tagged.files == plain.files


def test_renditions_carry_no_profile_and_none_of_the_originals_metadata() -> None:
    exif = Image.Exif()
    exif[0x0110] = "EOS-SECRET"
    exif.get_ifd(0x8825)[0x12] = "GPS-SECRET"
    for mode in ("RGB", "RGBA"):
        fmt = "JPEG" if mode == "RGB" else "PNG"
        data = encoded(picture(mode), fmt, icc_profile=display_p3(), exif=exif, comment=b"comment-secret")
        for name, rendition in render(data, "e" * 64, WIDTHS, True, LIMITS).files.items():
            assert not any(secret in rendition for secret in (b"EOS-SECRET", b"GPS-SECRET", b"comment-secret")), name
            with Image.open(io.BytesIO(rendition)) as image:
                assert "icc_profile" not in image.info, name
                assert not image.getexif(), name
