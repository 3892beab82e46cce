"""One list of image formats (`gallery/domain/formats.py`), read by everything that names one: sniffing, serving
headers, the static site, the OpenAPI document and the management page's file picker."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from PIL import Image

from gallery.domain import formats
from gallery.domain.serving import extension_for, site_content_type
from gallery.imaging import sniff
from gallery.site.shell import manage_page
from tests.helpers import svg

PACKAGE = Path(__file__).resolve().parent.parent / "gallery"
# Any image media type the gallery takes, spelled out.
SPELLED = re.compile("|".join(re.escape(f.media_type) for f in formats.FORMATS))


def test_nothing_but_the_list_spells_an_image_media_type() -> None:
    sources = [
        path
        for path in sorted(PACKAGE.rglob("*"))
        if path.suffix in {".py", ".js", ".html"} and "vendor" not in path.parts and path.name != "formats.py"
    ]
    assert len(sources) > 100
    spelled = {path.relative_to(PACKAGE).as_posix() for path in sources if SPELLED.search(path.read_text())}
    assert spelled == set()


@pytest.mark.parametrize("found", [f for f in formats.FORMATS if f.raster], ids=lambda f: f.name)
def test_each_raster_format_is_sniffed_named_and_served_as_listed(found: formats.ImageFormat) -> None:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(out, found.pillow)
    assert sniff(out.getvalue()) == found.media_type
    assert site_content_type(f"originals/{'a' * 64}.{extension_for(found.media_type)}") == found.media_type
    assert formats.name_of(found.media_type) == found.name


def test_svg_is_sniffed_and_served_as_listed() -> None:
    assert sniff(svg(10, 10)) == formats.SVG.media_type
    assert site_content_type(f"originals/{'a' * 64}.svg") == formats.SVG.media_type


def test_the_api_document_lists_every_format(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    text = repr(document)
    assert {f.media_type for f in formats.FORMATS} <= set(re.findall(r"image/[a-z+.-]+", text))


def test_the_management_page_picks_files_of_every_format() -> None:
    page = manage_page().decode()
    picked = re.search(r'data-image-files="([^"]+)"', page)
    assert picked is not None
    assert set(picked.group(1).split()) == {name for f in formats.FORMATS for name in f.file_names}
    assert "tif" in picked.group(1).split()
