"""The 250 px preview of a 6 MP JPEG against Pillow's draft-mode `thumbnail()` done alone.

The promise is on the preview step (limits checked, EXIF honoured, every byte decoded, PNG encoded): at most 1.3x the
bare thumbnail. Full `inspect()` (which also hashes the bytes) is reported beside it for information.
"""

from __future__ import annotations

import io

from PIL import Image

from benchmarks.harness import Comparison, compare_times
from gallery import imaging
from gallery.imaging import raster

LIMITS = imaging.DecodeLimits(max_pixels=50_000_000, max_frames=1000)


def photo_like_jpeg(width: int = 3000, height: int = 2000) -> bytes:
    """Gradients and noise: entropy close to a photograph, so the decoder does realistic work."""
    noise = Image.effect_noise((width, height), 40)
    red = Image.linear_gradient("L").resize((width, height))
    blue = Image.linear_gradient("L").rotate(90).resize((width, height))
    out = io.BytesIO()
    Image.merge("RGB", (red, noise, blue)).save(out, "JPEG", quality=90)
    return out.getvalue()


def run() -> list[Comparison]:
    data = photo_like_jpeg()

    def ours() -> bytes:
        image = Image.open(io.BytesIO(data), formats=["JPEG"])
        return raster.make_preview(image, image.size)

    def baseline() -> None:
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", (250, 250))
        image.thumbnail((250, 250))

    return [
        compare_times("preview of a 6 MP JPEG vs draft thumbnail()", ours, baseline, limit=1.3),
        compare_times(
            "full inspect() of a 6 MP JPEG (info only)", lambda: imaging.inspect(data, LIMITS), baseline, limit=2.0
        ),
    ]
