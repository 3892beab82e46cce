"""Renditions for the static site: what is planned from a catalog row, what rendering makes, and that the fast path
(draft decode, short resample, WebP at low effort) keeps the quality of the slow one."""

from __future__ import annotations

import io
import math
import random

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

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
