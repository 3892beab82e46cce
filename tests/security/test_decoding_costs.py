"""Decoding costs that multiply, and work that is not pixels. Frames drawn on a large canvas, later pages or frames
larger than the first, icons larger than their directory says; and what costs a step per piece whatever the picture:
JPEG scans and marker segments, PNG and WebP chunks, TIFF directories, values and tiles, EXIF inside any format,
run-length bitmaps. Each hostile file (`benchmarks/hostile_images.py`, bytes written by hand where Pillow would not
write them) must be refused from its headers, before any pixel is decoded; its legitimate counterpart is still
accepted. `python -m benchmarks.decode_costs` measures each one's time and memory before and after.
"""

from __future__ import annotations

import struct
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image, WebPImagePlugin
from werkzeug.test import TestResponse

from benchmarks.hostile_images import (
    READ_PAST_BY_PILLOW,
    SVG_OPEN,
    animated_webp,
    encode,
    exif_naming_one_value,
    gif,
    ico,
    ico_of_runs,
    interlaced_png,
    jpeg_with_exif,
    jpeg_with_fill,
    jpeg_with_mp_header,
    jpeg_with_segments,
    long_runs,
    mpo,
    multi_picture,
    one_pixel_runs,
    pillow_animation,
    pillow_gif,
    pillow_tiff,
    png,
    png_in_pieces,
    png_with_chunks,
    png_with_exif,
    progressive,
    repeated_scan,
    rle8_dib,
    rotated_jpeg,
    run_length_bmp,
    small_jpeg,
    svg_groups,
    svg_shapes,
    tiff,
    tiff_naming_one_value,
    tiff_of_many_entries,
    tiled_tiff,
    tiny_frames,
    webp_with_chunks,
    webp_with_exif,
)
from gallery import imaging
from gallery.demo import as_principal
from gallery.domain.errors import InvalidImage
from gallery.domain.model import ImageInfo, Scope
from gallery.imaging import headers
from gallery.site import renditions
from gallery.site.build import builder_for, selection_for
from gallery.site.builder import SiteOptions
from gallery.site.live import LiveSite
from gallery.wiring import Gallery
from tests.conftest import Actor, Seed
from tests.helpers import error_of, ok_json, site_cards

# The product's defaults (config: GALLERY_MAX_IMAGE_PIXELS, GALLERY_MAX_IMAGE_FRAMES), which the API tests run with.
LIMITS = imaging.DecodeLimits(max_pixels=50_000_000, max_frames=1000)


# --- the cases ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hostile:
    make: Callable[[], bytes]
    refusal: str  # what the 400 says


@dataclass(frozen=True)
class Legitimate:
    make: Callable[[], bytes]
    size: tuple[int, int]  # as displayed


HOSTILE: dict[str, Hostile] = {
    "gif: 60 one-pixel frames on a 7000×7000 screen (1.4 KB)": Hostile(
        lambda: gif((7000, 7000), tiny_frames(60)),
        "Image is 7000×7000 pixels over 60 frames (2,940,000,000 pixels to decode); the limit is 50,000,000 pixels",
    ),
    "gif: one frame over the budget": Hostile(
        lambda: gif((1000, 1000), tiny_frames(51)), "Image is 1000×1000 pixels over 51 frames"
    ),
    "gif: second frame 8000×8000 on a 100×100 screen": Hostile(
        lambda: gif((100, 100), [(0, 0, 100, 100), (0, 0, 8000, 8000)]),
        "Frame 2 of the GIF is 8000×8000 pixels; the limit is 50,000,000 pixels",
    ),
    "gif: 59 frames after an extension that Pillow reads past": Hostile(
        lambda: gif((7000, 7000), tiny_frames(60), after_first=READ_PAST_BY_PILLOW),
        "Image is 7000×7000 pixels over 60 frames",
    ),
    "gif: frames far outside the screen grow the canvas": Hostile(
        lambda: gif((10, 10), [(0, 0, 1, 1), (6999, 6999, 1, 1), (0, 0, 1, 1)]), "Image is 7000×7000 pixels over 3"
    ),
    "tiff: 300×300, then a 13000×13000 page": Hostile(
        lambda: tiff([(300, 300), (13000, 13000)]),
        "Page 2 of the TIFF is 13000×13000 pixels; the limit is 50,000,000 pixels",
    ),
    "tiff: pages each within the limit, together over it": Hostile(
        lambda: tiff([(5000, 4000)] * 3),
        "The TIFF's 3 pages add up to 60,000,000 pixels to decode; the limit is 50,000,000 pixels",
    ),
    "apng: 60 frames on a 7000×7000 canvas": Hostile(
        lambda: png((7000, 7000), 60), "Image is 7000×7000 pixels over 60 frames"
    ),
    "webp: 10 frames on a 4000×4000 canvas": Hostile(
        lambda: animated_webp((4000, 4000), 10), "Image is 4000×4000 pixels over 10 frames"
    ),
    "webp: 9 frames inside the first frame's oversized ANMF": Hostile(
        lambda: animated_webp((4000, 4000), 10, first_holds_all=True), "Image is 4000×4000 pixels over 10 frames"
    ),
    "jpeg (MPO): a 300×200 picture, then an 8000×8000 one": Hostile(
        lambda: mpo((300, 200), (8000, 8000)), "Frame 2 of the MPO is 8000×8000 pixels; the limit is 50,000,000 pixels"
    ),
    "ico: a 16×16 entry holding an 8000×8000 PNG": Hostile(
        lambda: ico(16, png((8000, 8000))), "Icon 1 of the ICO is 8000×8000 pixels; the limit is 50,000,000 pixels"
    ),
    "ico: a 16×16 entry holding an 8000×8000 BMP": Hostile(
        lambda: ico(16, rle8_dib(8000, 8000), bits=8), "Icon 1 of the ICO is 8000×8000 pixels"
    ),
    # Work that is not pixels.
    "jpeg: 7000×7000 grey, its smallest scan repeated 2,000 times (341 KB)": Hostile(
        lambda: repeated_scan((7000, 7000), 2000), "The JPEG's scans go over more than 1,600,000,000 samples"
    ),
    "jpeg: a 64×64 picture of 101 scans": Hostile(
        lambda: repeated_scan((64, 64), 95), "The JPEG has more than 100 scans"
    ),
    "jpeg: 5000×4000 colour, its first scan (every component) 60 times": Hostile(
        lambda: repeated_scan((5000, 4000), 60, "RGB", "first", subsampling=0),
        "The JPEG's scans go over more than 1,600,000,000 samples",
    ),
    "jpeg (MPO): three pictures listed at one 4000×4000 picture of 46 scans": Hostile(
        lambda: multi_picture(small_jpeg(), repeated_scan((4000, 4000), 40), 3),
        "The JPEG's scans go over more than 1,600,000,000 samples",
    ),
    "jpeg: 30,000 empty comments before the tables": Hostile(
        lambda: jpeg_with_segments(30_000), "more than 20,000 marker segments and stray bytes"
    ),
    "jpeg: a megabyte of 0xFF fill between two segments": Hostile(
        lambda: jpeg_with_fill(1_000_000), "more than 20,000 marker segments and stray bytes"
    ),
    "jpeg: a megabyte of stray bytes between two segments": Hostile(
        lambda: jpeg_with_fill(1_000_000, b"\x01"), "more than 20,000 marker segments and stray bytes"
    ),
    "jpeg: EXIF of 500 entries naming one 50 KB value": Hostile(
        lambda: jpeg_with_exif(exif_naming_one_value(500, 50_000)), "name more bytes of values than the file holds"
    ),
    "jpeg: a multi-picture header of 500 entries naming one 50 KB value": Hostile(
        lambda: jpeg_with_mp_header(exif_naming_one_value(500, 50_000)), "name more bytes of values than the file holds"
    ),
    "webp: EXIF of 60 entries naming one 10 MB value": Hostile(
        lambda: webp_with_exif(exif_naming_one_value(60, 10_000_000)), "name more bytes of values than the file holds"
    ),
    "png: 100,000 empty chunks before the image data": Hostile(
        lambda: png_with_chunks(100_000), "The PNG is made of far more chunks than its size needs"
    ),
    "png: 2000×2000 in one-byte IDAT chunks": Hostile(
        lambda: png_in_pieces((2000, 2000), 1), "The PNG is made of far more chunks than its size needs"
    ),
    "png: eXIf of 60 entries naming one 10 MB value": Hostile(
        lambda: png_with_exif(exif_naming_one_value(60, 10_000_000)), "name more bytes of values than the file holds"
    ),
    "webp: 100,000 empty chunks": Hostile(
        lambda: webp_with_chunks(100_000), "The WebP is made of far more chunks than its size needs"
    ),
    "tiff: 200 one-pixel pages naming one 2 MB value": Hostile(
        lambda: tiff_naming_one_value(200, 2_000_000), "name more bytes of values than the file holds"
    ),
    "tiff: 7000×7000 in 16×16 tiles": Hostile(
        lambda: tiled_tiff((7000, 7000), 16), "Page 1 of the TIFF is cut into 191,844 strips or tiles"
    ),
    "tiff: three directories of 30,000 entries": Hostile(
        lambda: tiff_of_many_entries(3, 30_000), "The file's directories hold more than 65,536 entries"
    ),
    "bmp: 1000×1000 run-length, one pixel a run": Hostile(
        lambda: run_length_bmp((1000, 1000), one_pixel_runs((1000, 1000))),
        "The bitmap is more than 524,288 run-length commands",
    ),
    "bmp: 7000×7000 4-bit run-length (400 KB)": Hostile(
        lambda: run_length_bmp((7000, 7000), long_runs((7000, 7000)), bits=4),
        "A 4-bit run-length bitmap of 7000×7000 pixels is decoded a pixel at a time",
    ),
    "ico: an entry holding a 1000×1000 bitmap of one-pixel runs": Hostile(
        lambda: ico_of_runs((1000, 1000), one_pixel_runs((1000, 1000))),
        "The bitmap is more than 524,288 run-length commands",
    ),
}

LEGITIMATE: dict[str, Legitimate] = {
    "gif: 60 one-pixel frames on a 200×200 screen": Legitimate(lambda: gif((200, 200), tiny_frames(60)), (200, 200)),
    "gif: exactly at the budget": Legitimate(lambda: gif((1000, 1000), tiny_frames(50)), (1000, 1000)),
    "gif: animated, made by Pillow": Legitimate(lambda: pillow_gif(40, (300, 200)), (300, 200)),
    "tiff: two small pages": Legitimate(lambda: tiff([(300, 300), (400, 300)]), (300, 300)),
    "tiff: three RGB pages, made by Pillow": Legitimate(
        lambda: pillow_tiff([(640, 480), (320, 240), (1024, 768)]), (640, 480)
    ),
    "apng: 60 frames on a 500×500 canvas": Legitimate(lambda: png((500, 500), 60), (500, 500)),
    "apng: animated, made by Pillow": Legitimate(lambda: pillow_animation("PNG", 12, (320, 240)), (320, 240)),
    "png: still 6000×6000": Legitimate(lambda: png((6000, 6000)), (6000, 6000)),
    "webp: 10 frames on a 500×500 canvas": Legitimate(lambda: animated_webp((500, 500), 10), (500, 500)),
    "webp: animated, made by Pillow": Legitimate(lambda: pillow_animation("WEBP", 12, (320, 240)), (320, 240)),
    "ico: several sizes, made by Pillow": Legitimate(
        lambda: encode(Image.new("RGBA", (128, 128), "red"), "ICO", sizes=[(16, 16), (48, 48), (128, 128)]),
        (128, 128),
    ),
    "ico: a 256×256 entry holding a 256×256 PNG": Legitimate(lambda: ico(256, png((256, 256))), (256, 256)),
    "jpeg: turned by EXIF": Legitimate(rotated_jpeg, (300, 600)),
    "jpeg (MPO): two pictures": Legitimate(lambda: mpo((300, 200), (640, 480)), (300, 200)),
    "jpeg (MPO): a second, progressive picture": Legitimate(
        lambda: multi_picture(small_jpeg(), progressive((640, 480)), 1), (64, 48)
    ),
    "jpeg: progressive colour, libjpeg's 10 scans": Legitimate(lambda: progressive((3000, 2000), "RGB"), (3000, 2000)),
    "jpeg: progressive grey 7000×7000, 6 scans": Legitimate(lambda: progressive((7000, 7000)), (7000, 7000)),
    "jpeg: 50 comments and EXIF": Legitimate(
        lambda: jpeg_with_exif(exif_naming_one_value(1, 100))[:2] + jpeg_with_segments(50)[2:], (64, 48)
    ),
    "png: Adam7-interlaced 3000×2000": Legitimate(lambda: interlaced_png((3000, 2000)), (3000, 2000)),
    "png: image data in 16-byte chunks": Legitimate(lambda: png_in_pieces((2000, 2000), 16), (2000, 2000)),
    "png: with EXIF, turned by it": Legitimate(lambda: png_with_exif(rotated_exif()), (48, 64)),
    "webp: with EXIF, made by Pillow": Legitimate(
        lambda: encode(Image.new("RGB", (320, 240), "green"), "WEBP", exif=rotated_exif()), (240, 320)
    ),
    "tiff: 2000×2000 in 64×64 tiles": Legitimate(lambda: tiled_tiff((2000, 2000), 64, shared=False), (2000, 2000)),
    "bmp: 8-bit run-length, long runs": Legitimate(
        lambda: run_length_bmp((1000, 800), long_runs((1000, 800))), (1000, 800)
    ),
    "bmp: 4-bit run-length 640×480": Legitimate(
        lambda: run_length_bmp((640, 480), long_runs((640, 480)), bits=4), (640, 480)
    ),
    "ico: an 8-bit run-length entry": Legitimate(lambda: ico_of_runs((64, 64), long_runs((64, 64))), (64, 64)),
}


def rotated_exif() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    return exif.tobytes()


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every decoder Pillow starts (all formats' pixels, libtiff's included, go through `Image._getdecoder`) and
    every WebP frame libwebp decodes: the record of whether any pixel was decoded."""
    started: list[str] = []
    get_decoder = Image._getdecoder
    next_webp_frame = WebPImagePlugin.WebPImageFile._get_next

    def counting_decoder(mode: str, decoder_name: str, *args: object, **kwargs: object) -> object:
        started.append(decoder_name)
        return get_decoder(mode, decoder_name, *args, **kwargs)  # type: ignore[arg-type]

    def counting_webp(self: WebPImagePlugin.WebPImageFile) -> tuple[bytes, int, int]:
        started.append("webp")
        return next_webp_frame(self)

    monkeypatch.setattr(Image, "_getdecoder", counting_decoder)
    monkeypatch.setattr(WebPImagePlugin.WebPImageFile, "_get_next", counting_webp)
    return started


# --- through gallery.imaging ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_image_is_refused_before_any_pixel_is_decoded(decodes: list[str], case: str) -> None:
    data = HOSTILE[case].make()
    with pytest.raises(InvalidImage) as refused:
        imaging.inspect(data, LIMITS)
    assert HOSTILE[case].refusal in refused.value.message
    assert decodes == []


@pytest.mark.parametrize("case", list(LEGITIMATE))
def test_legitimate_image_is_accepted(decodes: list[str], case: str) -> None:
    data = LEGITIMATE[case].make()
    result = imaging.inspect(data, LIMITS)
    assert (result.original.width, result.original.height) == LEGITIMATE[case].size
    assert decodes  # the counter sees decoding, so its silence above means something


def test_the_hostile_gif_is_the_small_file_it_claims_to_be() -> None:
    assert len(gif((7000, 7000), tiny_frames(60))) < 1500


def test_the_frame_limit_still_holds_now_that_frames_are_counted_from_the_headers(decodes: list[str]) -> None:
    with pytest.raises(InvalidImage, match="frames; the limit is 1000"):
        imaging.inspect(gif((10, 10), tiny_frames(5000)), LIMITS)
    with pytest.raises(InvalidImage, match="pages; the limit is 3"):
        imaging.inspect(tiff([(10, 10)] * 4), imaging.DecodeLimits(max_pixels=1000, max_frames=3))
    assert decodes == []


def test_frames_the_header_reading_missed_are_still_measured_before_decoding(
    monkeypatch: pytest.MonkeyPatch, decodes: list[str]
) -> None:
    """Should Pillow ever find frames our GIF reader does not, each is measured as Pillow sees it before decoding."""
    monkeypatch.setitem(headers.HEADER_READERS, "GIF", lambda data, limits: headers.Layout("frame", iter([]), (1, 1)))
    with pytest.raises(InvalidImage, match="Frames 1 to 2 alone are 98,000,000 pixels to decode"):
        imaging.inspect(gif((7000, 7000), tiny_frames(60)), LIMITS)
    assert decodes == ["gif"]  # the first frame only: Pillow's GIF seek finishes the frame before it


@pytest.mark.parametrize(
    ("make", "noun"),
    [(lambda: gif((10, 10), tiny_frames(3)), "frames"), (lambda: tiff([(10, 10)] * 3), "pages")],
    ids=["gif", "tiff"],
)
def test_a_stricter_limit_is_obeyed(make: Callable[[], bytes], noun: str) -> None:
    imaging.inspect(make(), imaging.DecodeLimits(max_pixels=300, max_frames=3))
    with pytest.raises(InvalidImage, match=noun):
        imaging.inspect(make(), imaging.DecodeLimits(max_pixels=299, max_frames=3))


def test_site_renditions_refuse_the_same_files() -> None:
    """The static site decodes with `open_raster` too: the header checks live there, so it is covered."""
    for case in HOSTILE.values():
        with pytest.raises(InvalidImage):
            renditions.render(case.make(), "etag", (320,), True, LIMITS)


# --- through the API ------------------------------------------------------------------------------------------------
def post_image(client: FlaskClient, headers: dict[str, str], data: bytes) -> TestResponse:
    """`helpers.upload` with the multipart body built here: for bodies over 500 KB (the 8 MB icon) the test client
    would spool its own copy to a temporary file it never closes."""
    boundary = "decoding-costs-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="image.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        "/api/image", data=body, headers=headers, content_type=f"multipart/form-data; boundary={boundary}"
    )


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_upload_is_400_and_stores_nothing(
    client: FlaskClient, gallery: Gallery, admin: Actor, decodes: list[str], case: str
) -> None:
    blobs = set(gallery.storage.blobs.etags())
    body = error_of(post_image(client, admin.headers, HOSTILE[case].make()), 400)
    assert HOSTILE[case].refusal in body["message"]
    assert decodes == []
    assert gallery.images.usage(admin.tenant_id) == 0
    assert ok_json(client.get("/api/images?pageSize=10&page=0", headers=admin.headers))["totalElements"] == 0
    assert set(gallery.storage.blobs.etags()) == blobs


@pytest.mark.parametrize("case", list(LEGITIMATE))
def test_legitimate_upload_is_stored(client: FlaskClient, gallery: Gallery, admin: Actor, case: str) -> None:
    data = LEGITIMATE[case].make()
    descriptor = ok_json(post_image(client, admin.headers, data))["descriptor"]
    assert (descriptor["width"], descriptor["height"]) == LEGITIMATE[case].size
    assert gallery.images.usage(admin.tenant_id) == len(data)


def test_a_gif_of_millions_of_empty_blocks_is_refused_without_walking_them(decodes: list[str]) -> None:
    """A 1×1 GIF whose comment is 4 million one-byte sub-blocks: 8 MB, cheap to send, and a second or more of
    Python to walk block by block. The walk stops at a budget made from the file's size."""
    header = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0, 0, 0)
    comment = b"!\xfe" + b"\x01a" * 4_000_000 + b"\x00"
    data = header + comment + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00;"
    assert len(data) > 8_000_000
    with pytest.raises(InvalidImage, match="far more blocks than its size needs"):
        imaging.inspect(data, LIMITS)
    assert decodes == []
    ordinary = pillow_gif(40, (300, 200))  # a real animation walks well within its budget
    assert imaging.inspect(ordinary, LIMITS).original.width == 300


# --- SVG: parsed as a stream, within bounds of depth, elements and bytes ---------------------------------------------
SVG_HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "42 MB of nested groups (the review's)": (lambda: svg_groups(6_000_000), "an SVG may be at most 16 MB"),
    "14 MB of nested groups": (lambda: svg_groups(2_000_000), "nests elements deeper than 256 levels"),
    "257 levels": (lambda: svg_groups(256), "nests elements deeper than 256 levels"),
    "300,000 sibling elements (8 MB)": (lambda: svg_shapes(300_000), "has more than 200,000 elements"),
    "17 MB of comment": (
        lambda: SVG_OPEN + b"<!--" + b"x" * (17 * 1024 * 1024) + b"--></svg>",
        "The SVG is 17 MB; an SVG may be at most 16 MB",
    ),
}


@pytest.mark.parametrize("case", list(SVG_HOSTILE))
def test_an_svg_beyond_the_bounds_is_refused(case: str) -> None:
    make, refusal = SVG_HOSTILE[case]
    with pytest.raises(InvalidImage, match=refusal):
        imaging.inspect(make(), LIMITS)


def test_an_svg_at_the_bounds_is_accepted() -> None:
    assert imaging.inspect(svg_groups(255), LIMITS).original.width == 40  # 255 groups in the root: 256 levels
    assert imaging.inspect(svg_shapes(199_999), LIMITS).original.height == 30  # and the root: 200,000 elements


def test_a_deep_svg_costs_no_memory_beyond_its_bytes() -> None:
    """A 42 MB document of nested groups took a server from 113 MB to 1.8 GB while a tree was built; refused as a
    stream, 14 MB of them cost a few kilobytes besides their own bytes."""
    data = svg_groups(2_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidImage):
            imaging.inspect(data, LIMITS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000, peak  # building its tree took 572 MB (benchmarks/decode_costs.py)


@pytest.mark.parametrize("case", list(SVG_HOSTILE)[2:4])
def test_a_hostile_svg_upload_is_400_and_stores_nothing(
    client: FlaskClient, gallery: Gallery, admin: Actor, case: str
) -> None:
    make, refusal = SVG_HOSTILE[case]
    body = error_of(post_image(client, admin.headers, make()), 400)
    assert refusal in body["message"]
    assert gallery.images.usage(admin.tenant_id) == 0
    assert ok_json(client.get("/api/images?pageSize=10&page=0", headers=admin.headers))["totalElements"] == 0


# --- the living site: a slow render delays nothing else --------------------------------------------------------------
def cards(live: LiveSite) -> list[str]:
    try:
        return [card["t"] for card in site_cards(live.generations.site)]
    except (OSError, ValueError):
        return []


def test_an_image_made_private_leaves_the_site_while_other_images_render(
    tmp_path: Path, env: dict[str, str], uploaded: dict[str, ImageInfo], gallery: Gallery, seed: Seed
) -> None:
    """The review's upload held the living site's rebuild 32.8 s, and an image made private meanwhile stayed on `/`
    for 15 s. Hostile files are refused now; but legitimate work takes time too (here ten 49-megapixel pictures,
    seconds of rendering), and an image made private while it renders must leave `/` at once, not after it."""
    admin = as_principal(seed.users["admin"])
    options = SiteOptions(selection_for(gallery, seed.tenants["A"].name, system=True))
    live = LiveSite(
        tmp_path / "out" / "site", builder_for(gallery, options, tmp_path / "cache"), gallery.site.change_count
    )
    assert live.rebuild().state is not None
    assert "Sunset & <sea>" in cards(live)
    for shade in range(10):
        gallery.images.upload(admin, f"big{shade}.png", interlaced_png((7000, 7000), shade), f"Big {shade}", None)
    rendered = set((tmp_path / "cache" / "r").iterdir())
    stop = threading.Event()
    live.start(stop)
    try:
        wait_for(lambda: set((tmp_path / "cache" / "r").iterdir()) - rendered, "the first big picture rendered")
        gallery.images.set_public(admin, Scope.TENANT, "photo.jpg", False)
        shown = wait_for(lambda: (now := cards(live)) and "Sunset & <sea>" not in now and now, "the photo gone")
        big = [title for title in shown if title.startswith("Big ")]
        assert len(big) < 10, "the photo left only once every big picture was rendered"
        wait_for(lambda: sum(title.startswith("Big ") for title in cards(live)) == 10, "every big picture shown")
    finally:
        stop.set()
        live.close()


def wait_for(check: Callable[[], object], what: str, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen after {seconds} s: {what}")
        time.sleep(0.02)
    return found


def test_a_cursor_file_is_not_taken_for_an_icon() -> None:
    """CUR (ICO's sibling, which the sniffing does not know) is refused as unsupported, never decoded."""
    icon = encode(Image.new("RGBA", (32, 32), "red"), "ICO", sizes=[(32, 32)])
    cursor = icon[:2] + b"\x02\x00" + icon[4:]
    with pytest.raises(InvalidImage, match="not a supported image"):
        imaging.inspect(cursor, LIMITS)
