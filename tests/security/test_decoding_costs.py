"""Decoding costs that multiply: frames drawn on a large canvas, later pages or frames larger than the first, icons
larger than their directory says. Each hostile file is made here (bytes written by hand where Pillow would not write
them) and must be refused from its headers, before any pixel is decoded; its legitimate counterpart is still accepted.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from PIL import Image, WebPImagePlugin
from werkzeug.test import TestResponse

from gallery import imaging
from gallery.domain.errors import InvalidImage
from gallery.imaging import headers
from gallery.site import renditions
from gallery.wiring import Gallery
from tests.conftest import Actor
from tests.helpers import error_of, ok_json

# The product's defaults (config: GALLERY_MAX_IMAGE_PIXELS, GALLERY_MAX_IMAGE_FRAMES), which the API tests run with.
LIMITS = imaging.DecodeLimits(max_pixels=50_000_000, max_frames=1000)


# --- files, made in the test ----------------------------------------------------------------------------------------
def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def deflated_zeros(size: int) -> bytes:
    """`size` zero bytes, deflated a megabyte at a time: a 13000×13000 page is 21 MB of them, never held at once."""
    packer = zlib.compressobj(9)
    block = bytes(1 << 20)
    parts = [packer.compress(block[: min(len(block), size - done)]) for done in range(0, size, len(block))]
    return b"".join(parts) + packer.flush()


# LZW minimum code size 2, then one data sub-block holding clear, index 0, end; then the terminator.
ONE_PIXEL_LZW = bytes([2, 2, 0x44, 0x01, 0])


def blank_lzw(width: int, height: int) -> bytes:
    """Pillow's image data for a frame of colour 0: LZW code size, sub-blocks, terminator (48 KB for 8000×8000)."""
    if (width, height) == (1, 1):
        return ONE_PIXEL_LZW
    data = encode(Image.new("L", (width, height)), "GIF")
    descriptor = 13 + (3 << (data[10] & 7) + 1 if data[10] & 0x80 else 0)
    assert data[descriptor] == 0x2C  # no extension before the frame
    assert not data[descriptor + 9] & 0x80  # no local palette
    return data[descriptor + 10 : -1]


# After an extension whose first sub-block is already its terminator, Pillow skips one more run of sub-blocks. This
# run starts with ';' (59 bytes follow), so a reader that does not skip it takes it for the end of the file.
READ_PAST_BY_PILLOW = b"\x21\x01\x00" + b";" + bytes(59) + b"\0"


def gif(screen: tuple[int, int], frames: list[tuple[int, int, int, int]], after_first: bytes = b"") -> bytes:
    """A GIF with a two-colour palette and a blank frame for each (left, top, width, height)."""
    out = [b"GIF89a", struct.pack("<HHBBB", *screen, 0x80, 0, 0), b"\0\0\0\xff\xff\xff"]
    for number, (left, top, width, height) in enumerate(frames):
        out.append(b"\x21\xf9\x04\x04\x0a\x00\x00\x00")  # graphic control: keep the frame, show it 0.1 s
        out.append(struct.pack("<BHHHHB", 0x2C, left, top, width, height, 0) + blank_lzw(width, height))
        out.append(after_first if number == 0 else b"")
    return b"".join([*out, b";"])


def tiny_frames(count: int) -> list[tuple[int, int, int, int]]:
    return [(0, 0, 1, 1)] * count


def tiff(pages: list[tuple[int, int]]) -> bytes:
    """Little-endian, one 1-bit page of zeros per size, each one deflated strip: a few KB whatever a page declares."""
    out = bytearray(b"II*\0\0\0\0\0")
    link = 4  # where the offset of the next IFD is written
    for width, height in pages:
        strip = deflated_zeros((width + 7) // 8 * height)
        strip_at = len(out)
        out += strip + b"\0" * (len(strip) % 2)  # IFDs start on a word boundary
        struct.pack_into("<I", out, link, len(out))
        entries = [
            (256, 4, width),
            (257, 4, height),
            (258, 3, 1),  # bits per sample
            (259, 3, 8),  # deflate
            (262, 3, 1),  # black is zero
            (273, 4, strip_at),
            (277, 3, 1),  # samples per pixel
            (278, 4, height),  # rows per strip
            (279, 4, len(strip)),
        ]
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            out += struct.pack("<HHII", tag, kind, 1, value)
        link = len(out)
        out += b"\0\0\0\0"
    return bytes(out)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png(canvas: tuple[int, int], frames: int = 0) -> bytes:
    """A 1-bit grey PNG of zeros; with `frames`, an APNG whose first frame is the whole canvas and every later one a
    single pixel."""
    width, height = canvas
    chunks = [png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))]
    if frames:
        chunks.append(png_chunk(b"acTL", struct.pack(">II", frames, 0)))
        chunks.append(png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, width, height, 0, 0, 1, 10, 0, 0)))
    chunks.append(png_chunk(b"IDAT", deflated_zeros((1 + (width + 7) // 8) * height)))
    for number in range(1, frames):
        sequence = 2 * number - 1
        chunks.append(png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", sequence, 1, 1, 0, 0, 1, 10, 0, 0)))
        chunks.append(png_chunk(b"fdAT", struct.pack(">I", sequence + 1) + zlib.compress(b"\0\0")))
    return b"\x89PNG\r\n\x1a\n" + b"".join([*chunks, png_chunk(b"IEND", b"")])


def riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) % 2)


def u24(value: int) -> bytes:
    return value.to_bytes(3, "little")


def animated_webp(canvas: tuple[int, int], frames: int, first_holds_all: bool = False) -> bytes:
    """An animated WebP whose every frame is one lossless pixel in the corner of `canvas`. With `first_holds_all`,
    the first ANMF chunk declares a size that takes in all the frames after it: libwebp reads on after the frame's
    own image chunk all the same, so only a reader that does the same sees them."""
    pixel = encode(Image.new("RGBA", (1, 1)), "WEBP", lossless=True)[12:]  # the file's one chunk, VP8L
    header = riff_chunk(b"VP8X", bytes([0x12, 0, 0, 0]) + u24(canvas[0] - 1) + u24(canvas[1] - 1))  # animated, alpha
    animation = riff_chunk(b"ANIM", bytes(6))
    payload = u24(0) + u24(0) + u24(0) + u24(0) + u24(100) + b"\0" + pixel
    rest = riff_chunk(b"ANMF", payload) * (frames - 1)
    first = b"ANMF" + struct.pack("<I", len(payload) + (len(rest) if first_holds_all else 0)) + payload
    body = b"WEBP" + header + animation + first + rest
    return b"RIFF" + struct.pack("<I", len(body)) + body


def ico(directory_size: int, embedded: bytes, bits: int = 32) -> bytes:
    """An icon file with one entry that claims `directory_size` a side and holds `embedded` (a PNG or a DIB)."""
    side = directory_size % 256  # 0 means 256
    entry = struct.pack("<BBBBHHII", side, side, 0, 0, 1, bits, len(embedded), 22)
    return b"\0\0\1\0\1\0" + entry + embedded


def rle8_dib(width: int, height: int) -> bytes:
    """A BMP as icons hold one: the height counts the AND mask too; 8-bit RLE data that skips 255 rows a command,
    then the mask (one bit a pixel, rows padded to 32 bits: 8 MB for 8000×8000)."""
    header = struct.pack("<IiiHHIIiiII", 40, width, 2 * height, 1, 8, 1, 2, 0, 0, 2, 0)
    pixels = b"\0\2\0\xff" * (height // 255 + 1) + b"\0\1"
    mask = bytes((width + 31) // 32 * 4 * height)
    return header + b"\0\0\0\0\xff\xff\xff\0" + pixels + mask


def pillow_gif(frames: int, size: tuple[int, int]) -> bytes:
    images = [Image.new("P", size, n) for n in range(frames)]
    for n, image in enumerate(images):
        image.putpalette([n * 20 % 256, 40, 0] * 256)
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=50, loop=0)


def pillow_animation(fmt: str, frames: int, size: tuple[int, int]) -> bytes:
    images = [Image.new("RGB", size, (n * 20 % 256, 90, 30)) for n in range(frames)]
    return encode(images[0], fmt, save_all=True, append_images=images[1:], duration=50, loop=0)


def pillow_tiff(sizes: list[tuple[int, int]]) -> bytes:
    pages = [Image.new("RGB", size, (40, 80, 120)) for size in sizes]
    return encode(pages[0], "TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")


def mpo(*sizes: tuple[int, int]) -> bytes:
    """A multi-picture JPEG (what some cameras write): Pillow opens it as JPEG and seeks through its pictures."""
    pictures = [Image.new("L", size, 90) for size in sizes]
    return encode(pictures[0], "MPO", save_all=True, append_images=pictures[1:])


def rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed turned a quarter clockwise
    return encode(Image.new("RGB", (600, 300), "blue"), "JPEG", exif=exif.tobytes())


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
}


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
    monkeypatch.setitem(headers.HEADER_READERS, "GIF", lambda data: headers.Layout("frame", iter([]), (1, 1)))
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
