"""The public copy of an image (`gallery.imaging.metadata`): what a camera, a phone or an editor wrote about the
place and the people is gone, byte for byte; what the picture looks like is not — the same pixels, colour profile,
orientation and animation — and nothing was re-encoded to get there."""

from __future__ import annotations

import contextlib
import io
import random
import struct
from collections.abc import Callable

import pytest
from PIL import Image, ImageCms, PngImagePlugin, TiffImagePlugin

from gallery.domain.errors import InvalidImage
from gallery.imaging import tiff
from gallery.imaging.metadata import public_copy

ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="xmp-secret Jane Doe"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
# What the cameras below write, each found in the original's bytes and in none of its copy's.
CAMERA = (b"CanonMake", b"EOS-SECRET", b"SN12345", b"LSN67890", b"Jane Doe", b"GPS-SECRET", b"2024:01:02")
# The GPS latitude (51, 30, 15.25) as Pillow writes it: big-endian EXIF of its own, little-endian in our TIFFs.
GPS_LATITUDE, GPS_LATITUDE_LE = struct.pack(">6I", 51, 1, 30, 1, 61, 4), struct.pack("<6I", 51, 1, 30, 1, 61, 4)
PRIVATE_TAGS = {0x010F, 0x0110, 0x013B, 0x8298, 0x0132, 0x8769, 0x8825, 0x02BC}
PRIVATE_INFO = {"xmp", "XML:com.adobe.xmp", "comment", "Author", "Comment", "photoshop"}


def camera_exif(orientation: int = 6) -> Image.Exif:
    """EXIF as a camera writes it: make, model, owner, dates, serial numbers, a maker note, a GPS position."""
    exif = Image.Exif()
    exif[0x010F] = "CanonMake"
    exif[0x0110] = "EOS-SECRET"
    exif[0x013B] = "Jane Doe"  # Artist
    exif[0x8298] = "Jane Doe 2024"  # Copyright
    exif[0x0132] = "2024:01:02 03:04:05"
    exif[0x0112] = orientation
    camera = exif.get_ifd(0x8769)
    camera[0x9003] = "2024:01:02 03:04:05"  # DateTimeOriginal
    camera[0xA430] = "Jane Doe"  # CameraOwnerName
    camera[0xA431] = "SN12345"  # BodySerialNumber
    camera[0xA435] = "LSN67890"  # LensSerialNumber
    camera[0x927C] = b"maker note SN12345"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 15.25)
    gps[0x12] = "GPS-SECRET-DATUM"
    return exif


def photo(mode: str = "RGB", size: tuple[int, int] = (64, 48), seed: int = 0) -> Image.Image:
    """Noise, so every pixel matters and a re-encoding would show."""
    return Image.frombytes(mode, size, random.Random(seed).randbytes(size[0] * size[1] * len(mode)))


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg_segment(code: int, body: bytes) -> bytes:
    return bytes((0xFF, code)) + struct.pack(">H", len(body) + 2) + body


def camera_jpeg(progressive: bool = False) -> bytes:
    """A phone's JPEG: EXIF, XMP, an ICC profile, a comment, Photoshop's IPTC, a JFIF thumbnail."""
    data = encode(
        photo(), "JPEG", quality=90, exif=camera_exif(), icc_profile=ICC, xmp=XMP, comment=b"comment-secret",
        progressive=progressive,
    )  # fmt: skip
    jfif = jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x02\x02" + b"THUMB-SECRET")
    iptc = jpeg_segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0cJane Doe IPTC")
    assert data[2:4] == b"\xff\xe0"  # Pillow's JFIF header, replaced by one with a thumbnail
    (length,) = struct.unpack_from(">H", data, 4)
    return data[:2] + jfif + iptc + data[4 + length :]


def camera_png() -> bytes:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Jane Doe")
    text.add_text("Comment", "comment-secret", zip=True)
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    text.add(b"tIME", b"\x07\xe8\x01\x02\x03\x04\x05")
    text.add(b"prVt", b"SN12345 in a private chunk")
    return encode(photo("RGBA"), "PNG", exif=camera_exif(), icc_profile=ICC, pnginfo=text)


def camera_apng() -> bytes:
    frames = [photo("RGBA", seed=n) for n in range(3)]
    return encode(
        frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100, loop=0, exif=camera_exif(),
        icc_profile=ICC, pnginfo=_png_text("Author", "Jane Doe"),
    )  # fmt: skip


def _png_text(key: str, value: str) -> PngImagePlugin.PngInfo:
    text = PngImagePlugin.PngInfo()
    text.add_text(key, value)
    return text


def camera_webp(animated: bool = False, lossless: bool = False) -> bytes:
    frames = [photo(seed=n) for n in range(3 if animated else 1)]
    return encode(
        frames[0], "WEBP", save_all=animated, append_images=frames[1:], exif=camera_exif(), icc_profile=ICC,
        xmp=XMP, lossless=lossless, quality=80,
    )  # fmt: skip


def camera_tiff(compression: str = "tiff_lzw", pages: int = 1) -> bytes:
    """A TIFF whose first page gains what a camera writes (make, model, owner, XMP, the Exif and GPS directories)
    the way an editor adds it: a whole new directory at the end of the file, the old one left behind."""
    images = [photo(seed=n) for n in range(pages)]
    data = encode(
        images[0], "TIFF", compression=compression, icc_profile=ICC, save_all=pages > 1, append_images=images[1:],
        description="description-secret Jane Doe", software="EOS-SECRET firmware",
    )  # fmt: skip
    first = Image.open(io.BytesIO(data))
    assert isinstance(first, TiffImagePlugin.TiffImageFile)
    exif = first.getexif()
    for tag, value in camera_exif().items():
        exif[tag] = value
    exif[700] = XMP
    private = camera_exif()
    exif.get_ifd(0x8769).update(private.get_ifd(0x8769))
    exif.get_ifd(0x8825).update(private.get_ifd(0x8825))
    at = len(data) + len(data) % 2
    directory = exif.tobytes(offset=at)[6 + 8 :]
    endian = "<" if data[:2] == b"II" else ">"
    out = bytearray(data.ljust(at, b"\x00") + directory)
    struct.pack_into(endian + "I", out, 4, at)
    # Pillow moves a strip's offset past the directory it writes, as if the pixels followed; they stay where they were.
    (count,) = struct.unpack_from(endian + "H", out, at)
    for index in range(count):
        if struct.unpack_from(endian + "H", out, at + 2 + 12 * index)[0] == tiff.STRIP_OFFSETS:
            struct.pack_into(endian + "I", out, at + 2 + 12 * index + 8, first.tag_v2[tiff.STRIP_OFFSETS][0])
    old = tiff.read_directory(data, struct.unpack_from(endian + "I", data, 4)[0], endian, tiff.Directories(len(data)))
    struct.pack_into(endian + "I", out, at + 2 + 12 * count, old.next)  # the pages after the first
    return bytes(out)


def gif_with(data: bytes, *extensions: bytes) -> bytes:
    """The GIF with extensions inserted before its first block."""
    flags = data[10]
    start = 13 + (3 << (flags & 7) + 1 if flags & 0x80 else 0)
    return data[:start] + b"".join(extensions) + data[start:]


def xmp_extension(packet: bytes) -> bytes:
    """XMP in a GIF as Adobe writes it: raw bytes, then a "magic trailer" that reads as sub-blocks from anywhere."""
    return b"\x21\xff\x0bXMP DataXMP" + packet + b"\x01" + bytes(range(255, -1, -1)) + b"\x00"


def camera_gif() -> bytes:
    frames = [photo("L", seed=n).convert("P") for n in range(3)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0, comment=b"Jane Doe")
    return gif_with(data, xmp_extension(XMP), b"\x21\xfe\x0ecomment-secret\x00")


CASES: dict[str, tuple[Callable[[], bytes], str, tuple[bytes, ...]]] = {
    "jpeg": (camera_jpeg, "image/jpeg", (*CAMERA, GPS_LATITUDE, b"xmp-secret", b"comment-secret", b"THUMB-SECRET")),
    "progressive jpeg": (lambda: camera_jpeg(progressive=True), "image/jpeg", (*CAMERA, b"xmp-secret")),
    "png": (camera_png, "image/png", (*CAMERA, GPS_LATITUDE, b"xmp-secret", b"tIME")),
    "apng": (camera_apng, "image/png", (*CAMERA, GPS_LATITUDE)),
    "webp": (camera_webp, "image/webp", (*CAMERA, GPS_LATITUDE, b"xmp-secret")),
    "lossless webp": (lambda: camera_webp(lossless=True), "image/webp", (*CAMERA, b"xmp-secret")),
    "animated webp": (lambda: camera_webp(animated=True), "image/webp", (*CAMERA, b"xmp-secret")),
    "tiff": (camera_tiff, "image/tiff", (*CAMERA, GPS_LATITUDE_LE, b"xmp-secret", b"description-secret")),
    "raw tiff": (lambda: camera_tiff("raw"), "image/tiff", (*CAMERA, b"xmp-secret", b"description-secret")),
    "tiff pages": (lambda: camera_tiff(pages=3), "image/tiff", (*CAMERA, b"xmp-secret")),
    "gif": (camera_gif, "image/gif", (b"Jane Doe", b"xmp-secret", b"comment-secret", b"XMP DataXMP")),
}


def frames(data: bytes) -> list[tuple[str, tuple[int, int], bytes]]:
    """Every frame or page, decoded."""
    image = Image.open(io.BytesIO(data))
    decoded = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        image.load()
        decoded.append((image.mode, image.size, image.tobytes()))
    return decoded


def assert_looks_the_same(original: bytes, copy: bytes) -> None:
    before, after = Image.open(io.BytesIO(original)), Image.open(io.BytesIO(copy))
    assert after.format == before.format
    assert after.getexif().get(0x0112, 1) == before.getexif().get(0x0112, 1)
    assert after.info.get("icc_profile") == before.info.get("icc_profile")
    assert frames(copy) == frames(original)


@pytest.mark.parametrize("case", list(CASES))
def test_the_copy_keeps_the_picture_and_nothing_about_the_camera_the_place_or_the_people(case: str) -> None:
    make, media_type, secrets = CASES[case]
    original = make()
    assert [secret for secret in secrets if secret not in original] == []  # else the test would prove nothing
    copy = public_copy(original, media_type)
    assert copy is not None
    assert [secret for secret in secrets if secret in copy] == []
    assert len(copy) <= len(original)
    assert_looks_the_same(original, copy)
    after = Image.open(io.BytesIO(copy))
    exif = after.getexif()
    assert set(exif) <= {0x0112} or media_type == "image/tiff"  # a TIFF's directory holds its pixels' tags too
    assert not PRIVATE_TAGS & set(exif)
    assert exif.get_ifd(0x8825) == {}
    assert exif.get_ifd(0x8769) == {}
    assert not PRIVATE_INFO & set(after.info)
    assert public_copy(copy, media_type) is None  # nothing left to take


def test_what_is_kept_is_what_changes_how_the_picture_looks() -> None:
    """Orientation 6 and the ICC profile, present to begin with, are what the copy's metadata is."""
    for name in ("jpeg", "png", "webp", "tiff"):
        make, media_type, _ = CASES[name]
        copy = public_copy(make(), media_type)
        assert copy is not None
        with Image.open(io.BytesIO(copy)) as image:
            assert image.getexif()[0x0112] == 6, name
            assert image.info["icc_profile"] == ICC, name


def test_an_orientation_that_turns_nothing_is_not_kept() -> None:
    copy = public_copy(encode(photo(), "JPEG", exif=camera_exif(orientation=1)), "image/jpeg")
    assert copy is not None
    assert b"Exif" not in copy


def test_a_webps_header_announces_what_the_copy_holds() -> None:
    """The extended header's flags: EXIF when an orientation is kept, XMP never."""
    for orientation, flags in ((6, 0x08), (1, 0x00)):
        copy = public_copy(encode(photo(), "WEBP", exif=camera_exif(orientation), xmp=XMP), "image/webp")
        assert copy is not None
        assert copy[12:16] == b"VP8X"
        assert copy[20] & 0x0C == flags


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (encode(photo(), "JPEG"), "image/jpeg"),
        (encode(photo(), "JPEG", icc_profile=ICC, progressive=True), "image/jpeg"),
        (encode(photo(), "PNG", icc_profile=ICC), "image/png"),
        (encode(photo(), "WEBP", icc_profile=ICC), "image/webp"),
        (encode(photo(), "WEBP", lossless=True), "image/webp"),
        (encode(photo(), "TIFF", compression="tiff_lzw", icc_profile=ICC), "image/tiff"),
        (encode(photo("L").convert("P"), "GIF", save_all=True, append_images=[photo("L").convert("P")]), "image/gif"),
        (encode(photo(), "BMP"), "image/bmp"),
        (encode(photo("RGBA"), "ICO"), "image/x-icon"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><metadata>Jane Doe</metadata></svg>', "image/svg+xml"),
    ],
    ids=["jpeg", "progressive jpeg", "png", "webp", "lossless webp", "tiff", "gif", "bmp", "ico", "svg"],
)
def test_bytes_with_nothing_to_take_need_no_copy(data: bytes, media_type: str) -> None:
    assert public_copy(data, media_type) is None


@pytest.mark.parametrize(("fmt", "media_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_an_orientation_alone_as_pillow_writes_it_needs_no_copy(fmt: str, media_type: str) -> None:
    exif = Image.Exif()
    exif[0x0112] = 8
    assert public_copy(encode(photo(), fmt, exif=exif), media_type) is None


@pytest.mark.parametrize(("fmt", "media_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_an_orientation_only_xmp_gave_becomes_exif(fmt: str, media_type: str) -> None:
    """Pillow (and so the renditions, and the sizes in the catalog) turns a picture by XMP's orientation when EXIF
    has none; the copy keeps that turn, as EXIF, and loses the rest of the XMP."""
    packet = XMP.replace(b"<rdf:Description ", b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
                         b'tiff:Orientation="6" ')  # fmt: skip
    options: dict[str, object] = {"xmp": packet}
    if fmt == "PNG":
        options = {"pnginfo": PngImagePlugin.PngInfo()}
        options["pnginfo"].add_itxt("XML:com.adobe.xmp", packet.decode())  # type: ignore[attr-defined]
    original = encode(photo(), fmt, **options)
    copy = public_copy(original, media_type)
    assert copy is not None
    assert b"xmp-secret" not in copy
    assert Image.open(io.BytesIO(original)).getexif()[0x0112] == 6
    assert_looks_the_same(original, copy)


def test_what_follows_a_jpeg_is_dropped() -> None:
    """An MPO's further pictures, a phone's motion-photo video: each can carry its own EXIF and GPS position."""
    first = encode(photo(), "JPEG")
    second = encode(photo(seed=1), "JPEG", exif=camera_exif())
    copy = public_copy(first + second, "image/jpeg")
    assert copy == first


def test_a_comment_between_the_scans_of_a_progressive_jpeg_is_dropped() -> None:
    data = encode(photo(), "JPEG", progressive=True)
    second_scan = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    hidden = data[:second_scan] + jpeg_segment(0xFE, b"comment-secret") + data[second_scan:]
    assert frames(hidden) == frames(data)
    assert public_copy(hidden, "image/jpeg") == data


def test_a_tiffs_pixels_are_copied_whatever_their_compression() -> None:
    """No pixel is decoded, so none can change: JPEG-compressed pages (which re-saving would re-encode) and 16-bit
    ones (which Pillow reads as 8 bits) come out the same."""
    for image, compression in ((photo(), "jpeg"), (photo("L").convert("I;16"), "tiff_adobe_deflate")):
        original = encode(image, "TIFF", compression=compression, artist="Jane Doe")
        copy = public_copy(original, "image/tiff")
        assert copy is not None
        assert b"Jane Doe" not in copy
        assert_looks_the_same(original, copy)


# Hostile bytes: cut short, lying about lengths, made of far more pieces than their size needs.
JPEG = encode(photo(), "JPEG")
PNG = encode(photo(), "PNG")
WEBP = encode(photo(), "WEBP", exif=camera_exif(), xmp=XMP)


def test_a_jpeg_segment_claiming_more_than_the_file_holds_is_dropped() -> None:
    cut = JPEG[:-2] + b"\xff\xe1\xff\xff" + b"Exif\x00\x00SN12345"
    copy = public_copy(cut, "image/jpeg")
    assert copy == JPEG[:-2]


@pytest.mark.parametrize("tail", [b"\xff", b"\xff\xe1", b"\xff\xe1\x00", b"\xff\xe1\x00\x00", b"\xff\xe1\x00\x01"])
def test_a_jpeg_cut_inside_a_segment_header_is_copied_up_to_it(tail: bytes) -> None:
    header_end = JPEG.index(b"\xff\xdb")  # after the JFIF header, where Pillow's JPEG has its tables
    assert public_copy(JPEG[:header_end] + tail, "image/jpeg") in (None, JPEG[:header_end])


def test_ten_thousand_empty_segments_are_dropped_and_twice_as_many_refused() -> None:
    many = jpeg_segment(0xE5, b"") * 10_000
    assert public_copy(JPEG[:2] + many + JPEG[2:], "image/jpeg") == JPEG
    with pytest.raises(InvalidImage, match="marker segments"):
        public_copy(JPEG[:2] + many * 3 + JPEG[2:], "image/jpeg")


def test_a_png_chunk_claiming_more_than_the_file_holds_is_dropped() -> None:
    iend = PNG.rindex(b"IEND") - 4
    cut = PNG[:iend] + struct.pack(">I4s", 0x7FFFFFFF, b"tEXt") + b"Author\x00Jane Doe"
    assert public_copy(cut, "image/png") == PNG[:iend]


def test_millions_of_png_chunks_are_refused() -> None:
    empty = struct.pack(">I4s", 0, b"tEXt") + struct.pack(">I", 0)
    with pytest.raises(InvalidImage, match="chunks"):
        public_copy(PNG[:33] + empty * 50_000 + PNG[33:], "image/png")


def test_a_webp_lying_about_its_size_keeps_no_metadata() -> None:
    for riff_size in (0xFFFFFFF0, len(WEBP) - 8 + 1000, 4):
        lying = WEBP[:4] + struct.pack("<I", riff_size) + WEBP[8:]
        copy = public_copy(lying, "image/webp")
        assert copy is not None
        assert b"SN12345" not in copy
        assert b"xmp-secret" not in copy


def test_a_gif_cut_short_is_copied_as_far_as_it_goes() -> None:
    data = camera_gif()
    for end in (13, 200, len(data) // 2, len(data) - 1):
        copy = public_copy(data[:end], "image/gif")
        assert copy is None or (b"xmp-secret" not in copy and b"comment-secret" not in copy)


def test_a_tiff_whose_directories_cannot_be_read_gets_no_copy() -> None:
    """Its metadata cannot be told from its pixels, so it is refused rather than passed on."""
    data = camera_tiff()
    with pytest.raises(InvalidImage, match="outside the file"):
        public_copy(data[:4] + struct.pack("<I", len(data) + 10) + data[8:], "image/tiff")
    no_sizes = encode(photo(), "TIFF")
    position = no_sizes.index(struct.pack("<HH", tiff.STRIP_OFFSETS + 6, 4))  # StripByteCounts' entry
    with pytest.raises(InvalidImage, match="how long its pixel data is"):
        public_copy(no_sizes[:position] + b"\xff\xff" + no_sizes[position + 2 :], "image/tiff")


@pytest.mark.parametrize("media_type", ["image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff"])
def test_bytes_of_another_format_are_refused(media_type: str) -> None:
    with pytest.raises(InvalidImage, match="is not a"):
        public_copy(b"BM" + bytes(100), media_type)


@pytest.mark.parametrize("case", ["jpeg", "png", "apng", "animated webp", "tiff pages", "gif"])
def test_damaged_bytes_get_a_copy_no_copy_or_a_refusal_never_a_crash(case: str) -> None:
    make, media_type, _ = CASES[case]
    data = make()
    rnd = random.Random(case)
    for _ in range(300):
        damaged = bytearray(data)
        for _ in range(rnd.randint(1, 6)):
            damaged[rnd.randrange(min(len(damaged), 600))] = rnd.randrange(256)
        cut = bytes(damaged[: rnd.randrange(len(damaged))] if rnd.random() < 0.3 else damaged)
        with contextlib.suppress(InvalidImage):
            public_copy(cut, media_type)
