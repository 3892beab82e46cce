"""Image files that cost more to decode than their pixels say, made byte by byte where no encoder would write them,
with legitimate counterparts: for `tests/security/test_decoding_costs.py` and `benchmarks/decode_costs.py`.

Nothing here is the product's: these are an attacker's files, and the ordinary files they are measured against.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from gallery.imaging.jpeg import END_OF_SCAN


# --- files that cost in proportion: frames, pages, icons -----------------------------------------------------------
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


# --- files whose cost is not their pixels: scans, segments, chunks, directories, runs ------------------------------
def jpeg_scans(data: bytes) -> list[tuple[int, int]]:
    """Where each scan of a JPEG lies: its SOS segment and the entropy-coded data after it."""
    found, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] != 0xD9:
        (length,) = struct.unpack_from(">H", data, pos + 2)
        end = pos + 2 + length
        if data[pos + 1] == 0xDA:
            end = END_OF_SCAN.search(data, end).start()  # type: ignore[union-attr]
            found.append((pos, end))
        pos = end
    return found


def progressive(size: tuple[int, int], mode: str = "L", **options: object) -> bytes:
    """A flat picture as libjpeg's progressive script writes it: 6 scans in grey, 10 in colour."""
    return encode(Image.new(mode, size, 128 if mode == "L" else (90, 120, 150)), "JPEG", progressive=True, **options)


def repeated_scan(
    size: tuple[int, int], times: int, mode: str = "L", which: str = "smallest", **options: object
) -> bytes:
    """A progressive JPEG with one of its scans repeated `times` times before its last: the smallest (a few dozen
    bytes that make libjpeg visit every block of a component), or the first (DC, every component at once)."""
    data = progressive(size, mode, **options)
    scans = jpeg_scans(data)
    start, end = scans[0] if which == "first" else min(scans, key=lambda scan: scan[1] - scan[0])
    last = scans[-1][1]
    return data[:last] + data[start:end] * times + data[last:]


def small_jpeg() -> bytes:
    return encode(Image.new("RGB", (64, 48), (200, 90, 40)), "JPEG")


def jpeg_with_segments(count: int, segment: bytes = b"\xff\xfe\x00\x02") -> bytes:
    """A small JPEG with `count` copies of `segment` (an empty comment) before its tables."""
    data = small_jpeg()
    return data[:2] + segment * count + data[2:]


def jpeg_with_fill(count: int, fill: bytes = b"\xff") -> bytes:
    """A small JPEG with `count` fill (or stray) bytes before its second segment: Pillow steps over them one by one."""
    data = small_jpeg()
    (app0,) = struct.unpack_from(">H", data, 4)
    at = 4 + app0
    return data[:at] + fill * count + data[at:]


def exif_naming_one_value(entries: int, size: int) -> bytes:
    """EXIF (a TIFF header and one directory) whose `entries` entries each name the same `size` bytes."""
    first = 8
    values = first + 2 + 12 * entries + 4
    directory = struct.pack("<H", entries) + b"".join(
        struct.pack("<HHII", 0x9000 + n, 7, size, values) for n in range(entries)
    )
    return b"II*\x00" + struct.pack("<I", first) + directory + b"\0\0\0\0" + bytes(size)


def jpeg_with_exif(exif: bytes) -> bytes:
    data = small_jpeg()
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 8) + b"Exif\x00\x00" + exif + data[2:]


def multi_picture(first: bytes, second: bytes, times: int) -> bytes:
    """An MPO: `first`, whose MP header lists `times` further pictures, every one of them at the offset of `second`
    (appended once). Pillow decodes each listed picture: the same bytes, again and again."""
    count = times + 1
    entries_at = 8 + 2 + 3 * 12 + 4
    directory = struct.pack("<H", 3) + struct.pack("<HHI4s", 0xB000, 7, 4, b"0100")
    directory += struct.pack("<HHII", 0xB001, 4, 1, count) + struct.pack("<HHII", 0xB002, 7, 16 * count, entries_at)
    header_size = 4 + 8 + len(directory) + 4 + 16 * count  # "MPF\0", TIFF header, directory, next, entries
    segment_at = 2
    mp_base = segment_at + 4 + 4  # marker, length, "MPF\0": where Pillow counts the offsets from
    second_at = len(first) + 4 + header_size
    entries = struct.pack("<IIIHH", 0x030000, len(first), 0, 0, 0)
    entries += struct.pack("<IIIHH", 0x010000, len(second), second_at - mp_base, 0, 0) * times
    mpf = b"MPF\x00II*\x00" + struct.pack("<I", 8) + directory + b"\0\0\0\0" + entries
    app2 = b"\xff\xe2" + struct.pack(">H", len(mpf) + 2) + mpf
    return first[:2] + app2 + first[2:] + second


def png_with_chunks(count: int, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small PNG with `count` empty chunks of a kind nobody knows before its image data."""
    data = encode(Image.new("L", size, 100), "PNG")
    return data[:33] + png_chunk(b"abCd", b"") * count + data[33:]


def png_in_pieces(size: tuple[int, int], piece: int) -> bytes:
    """A grey PNG whose compressed image data is cut into IDAT chunks of `piece` bytes."""
    width, height = size
    rows = b"".join(b"\0" + bytes(range(256)) * (width // 256) + bytes(width % 256) for _ in range(height))
    compressed = zlib.compress(rows, 6)
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    pieces = b"".join(png_chunk(b"IDAT", compressed[n : n + piece]) for n in range(0, len(compressed), piece))
    return b"\x89PNG\r\n\x1a\n" + ihdr + pieces + png_chunk(b"IEND", b"")


def interlaced_png(size: tuple[int, int], shade: int = 0) -> bytes:
    """A grey PNG in Adam7's seven passes (which Pillow does not write); `shade` makes another picture of it."""
    width, height = size
    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
    packer, parts = zlib.compressobj(6), []
    for x0, y0, dx, dy in passes:
        across, down = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if across > 0 and down > 0:
            row = b"\0" + bytes((n + shade) % 256 for n in range(across))
            parts += [packer.compress(row) for _ in range(down)]
    compressed = b"".join([*parts, packer.flush()])
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 1))
    return b"\x89PNG\r\n\x1a\n" + ihdr + png_chunk(b"IDAT", compressed) + png_chunk(b"IEND", b"")


def png_with_exif(exif: bytes) -> bytes:
    data = encode(Image.new("L", (64, 48), 100), "PNG")
    return data[:33] + png_chunk(b"eXIf", exif) + data[33:]


def webp_with_chunks(count: int) -> bytes:
    """A small WebP followed by `count` empty chunks of a kind nobody knows."""
    body = encode(Image.new("RGB", (64, 48), (20, 90, 160)), "WEBP")[12:] + riff_chunk(b"ABCD", b"") * count
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def tiff_directory(entries: list[tuple[int, int, int, int]]) -> bytes:
    return struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *entry) for entry in entries)


def tiff_naming_one_value(pages: int, size: int) -> bytes:
    """`pages` one-pixel pages whose directories each name the same `size` bytes (a tag nobody knows)."""
    out = bytearray(b"II*\0\0\0\0\0")
    value = len(out)
    out += bytes(size)
    pixel = len(out)
    out += b"\0\0"
    link = 4
    for _ in range(pages):
        struct.pack_into("<I", out, link, len(out))
        out += tiff_directory(
            [(256, 4, 1, 1), (257, 4, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, pixel),
             (277, 3, 1, 1), (278, 4, 1, 1), (279, 4, 1, 1), (40000, 7, size, value)]
        )  # fmt: skip
        link = len(out)
        out += b"\0\0\0\0"
    return bytes(out)


def tiled_tiff(size: tuple[int, int], tile: int, shared: bool = True) -> bytes:
    """An uncompressed grey TIFF in `tile`×`tile` tiles (all pointing at one tile's bytes unless not `shared`)."""
    width, height = size
    across, down = -(-width // tile), -(-height // tile)
    count = across * down
    out = bytearray(b"II*\0\0\0\0\0")
    tiles = len(out)
    out += bytes(range(256)) * (tile * tile // 256) + bytes(tile * tile % 256) if shared else b""
    if not shared:
        for n in range(count):
            out += bytes([n % 256]) * (tile * tile)
    offsets = [tiles if shared else tiles + n * tile * tile for n in range(count)]
    offsets_at = len(out)
    out += struct.pack(f"<{count}I", *offsets)
    counts_at = len(out)
    out += struct.pack(f"<{count}I", *([tile * tile] * count))
    struct.pack_into("<I", out, 4, len(out))
    out += tiff_directory(
        [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (277, 3, 1, 1),
         (322, 4, 1, tile), (323, 4, 1, tile), (324, 4, count, offsets_at), (325, 4, count, counts_at)]
    )  # fmt: skip
    return bytes(out + b"\0\0\0\0")


def tiff_of_many_entries(pages: int, entries: int) -> bytes:
    """One-pixel pages, each directory padded with `entries` entries of a tag nobody knows."""
    out = bytearray(b"II*\0\0\0\0\0")
    pixel = len(out)
    out += b"\0\0"
    link = 4
    for _ in range(pages):
        struct.pack_into("<I", out, link, len(out))
        base = [(256, 4, 1, 1), (257, 4, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, pixel),
                (277, 3, 1, 1), (278, 4, 1, 1), (279, 4, 1, 1)]  # fmt: skip
        out += tiff_directory(base + [(40000 + n % 20000, 1, 1, 0) for n in range(entries)])
        link = len(out)
        out += b"\0\0\0\0"
    return bytes(out)


def run_length_bmp(size: tuple[int, int], pixels: bytes, bits: int = 8) -> bytes:
    """A BMP of 8-bit (or 4-bit) run-length data, two colours."""
    width, height = size
    header = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bits, 1 if bits == 8 else 2, len(pixels), 0, 0, 2, 0)
    palette = b"\0\0\0\0\xff\xff\xff\0"
    offset = 14 + len(header) + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) + header + palette + pixels


def one_pixel_runs(size: tuple[int, int]) -> bytes:
    """Run-length data of one-pixel runs, row after row (what a hostile file sends: a Python step a pixel)."""
    width, height = size
    return (b"\x01\x01" * width + b"\x00\x00") * height + b"\x00\x01"


def long_runs(size: tuple[int, int]) -> bytes:
    """Run-length data as an encoder writes a two-tone picture: runs of up to 255 pixels, a line end per row."""
    width, height = size
    row = b"".join(bytes([min(255, width - x), (x // 255) % 2]) for x in range(0, width, 255))
    return (row + b"\x00\x00") * height + b"\x00\x01"


def ico_of_runs(size: tuple[int, int], pixels: bytes) -> bytes:
    """An icon whose one entry is an 8-bit run-length bitmap (its height counts the AND mask)."""
    width, height = size
    header = struct.pack("<IiiHHIIiiII", 40, width, 2 * height, 1, 8, 1, len(pixels), 0, 0, 2, 0)
    mask = bytes((width + 31) // 32 * 4 * height)
    return ico(width % 256, header + b"\0\0\0\0\xff\xff\xff\0" + pixels + mask, bits=8)


SVG_OPEN = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">'


def svg_groups(depth: int) -> bytes:
    """An SVG of `depth` groups, each inside the one before (7 bytes a level)."""
    return SVG_OPEN + b"<g>" * depth + b"</g>" * depth + b"</svg>"


def svg_shapes(count: int) -> bytes:
    """An SVG of `count` shapes side by side (28 bytes each)."""
    return SVG_OPEN + b'<rect width="1" height="1"/>' * count + b"</svg>"


def webp_with_exif(exif: bytes) -> bytes:
    """A small WebP (extended format) carrying `exif` in its EXIF chunk."""
    picture = encode(Image.new("RGB", (64, 48), (20, 90, 160)), "WEBP")[12:]
    header = riff_chunk(b"VP8X", bytes([0x08, 0, 0, 0]) + u24(63) + u24(47))  # flags: EXIF
    body = b"WEBP" + header + picture + riff_chunk(b"EXIF", exif)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def jpeg_with_mp_header(header: bytes) -> bytes:
    """A small JPEG whose APP2 multi-picture segment holds `header` (a TIFF directory, as MPO files have)."""
    data = small_jpeg()
    mpf = b"MPF\x00" + header
    return data[:2] + b"\xff\xe2" + struct.pack(">H", len(mpf) + 2) + mpf + data[2:]
