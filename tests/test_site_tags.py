"""Alt text, descriptions and tags on the static site: what every `<img alt>` says, a description on its page,
a page per tag (and one of every tag) kept exactly as current as the index, and the cards' short keys."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gallery.demo import as_principal
from gallery.domain import site_layout
from gallery.domain.embed import attribute
from gallery.domain.model import ImageInfo, Scope
from gallery.services.images import InfoChange
from gallery.site.contexts import SHORT_DESCRIPTION, paragraphs, short
from gallery.wiring import Gallery
from tests.conftest import Seed
from tests.helpers import png, site_cards, sitemap_urls
from tests.site_fixtures import DESCRIPTION, HOSTILE_ALT, build
from tests.test_site_build import inodes, page


class _Parsed(HTMLParser):
    """The elements of a page, attributes decoded, and its text, entities decoded: what a browser makes of it."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def alts(text: str) -> list[str | None]:
    return [attrs.get("alt") for tag, attrs in _Parsed(text).tags if tag == "img"]


def links(text: str) -> list[str]:
    return [str(attrs["href"]) for tag, attrs in _Parsed(text).tags if tag == "a" and attrs.get("href")]


def textareas(text: str) -> list[str]:
    """What each snippet's box holds, as a visitor copies it."""
    return [html.unescape(area) for area in re.findall(r"<textarea[^>]*>(.*?)</textarea>", text, re.S)]


def cards_of(text: str) -> list[str]:
    """The titles of a list page's cards (not the empty card of its template)."""
    listed = text.split('id="cards"')[1].split('<template id="card-template">')[0]
    return re.findall(r'<span class="name">([^<]*)</span>', listed)


def scope(seed: Seed) -> tuple[str, ...]:
    return ("--tenant", seed.tenants["A"].name, "--system")


@pytest.fixture
def tagged_site(tmp_path: Path, env: dict[str, str], described: dict[str, ImageInfo], seed: Seed) -> Path:
    out = tmp_path / "build" / "site"
    code, output = build(out, *scope(seed))
    assert code == 0, output
    return out


def test_every_img_says_the_alt_text_or_the_title_and_it_stays_text(
    tagged_site: Path, described: dict[str, ImageInfo]
) -> None:
    photo, logo, spinner = described["photo"], described["logo"], described["spinner"]
    index = (tagged_site / "index.html").read_text()
    assert {HOSTILE_ALT, "Our logo: a green square", "Spinner"} <= set(alts(index))
    assert "<script>alert" not in index  # escaped, never markup
    shown = page(tagged_site, photo)
    assert alts(shown) == [HOSTILE_ALT]  # the picture on its page
    assert shown.count("<script") == 2  # the export's fields and the theme's script: nothing the alt text opened
    snippets = textareas(shown)
    # The HTML snippet's and the responsive one's; ThingsBoard's Angular template never had one.
    assert [a for s in snippets for a in alts(s)] == [HOSTILE_ALT, HOSTILE_ALT, None]
    assert [s for s in snippets if f'<gallery-img src="{photo.link}" alt="{attribute(HOSTILE_ALT)}"' in s]
    markdown_alt = HOSTILE_ALT.replace("<", "\\<").replace(">", "\\>")
    assert [s for s in snippets if s.startswith(f"![{markdown_alt}](")]
    assert alts(page(tagged_site, spinner)) == ["Spinner"]  # no alt text: the title
    assert alts(page(tagged_site, logo)) == ["Our logo: a green square"]


def test_a_description_is_paragraphs_of_plain_text_under_the_picture(
    tagged_site: Path, described: dict[str, ImageInfo]
) -> None:
    shown = page(tagged_site, described["photo"])
    block = re.search(r'</figure>\n<div class="description">(.*?)</div>', shown)
    assert block is not None, shown
    assert block.group(1) == (
        "<p>Taken at &lt;b&gt;dusk&lt;/b&gt; &amp; before the rain.<br>Second line of the first paragraph.</p>"
        "<p>A second paragraph.</p>"
    )
    assert 'class="description"' not in page(tagged_site, described["logo"])  # none: nothing written


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("one", [["one"]]),
        ("a\nb\n\nc", [["a", "b"], ["c"]]),
        ("a\r\n\r\nb\rc", [["a"], ["b", "c"]]),  # Windows and old Mac line ends
        ("a\n   \n\n\nb", [["a"], ["b"]]),  # a blank line of spaces, and several
        ("\n\n  padded  \n\n", [["padded"]]),
    ],
)
def test_paragraphs(text: str, expected: list[list[str]]) -> None:
    assert paragraphs(text) == expected


def test_the_short_description_is_one_line_cut_at_a_word() -> None:
    assert short("Two\nlines") == "Two lines"
    long = "word " * 60
    cut = short(long)
    assert len(cut) <= SHORT_DESCRIPTION + 1
    assert cut.endswith("word…")
    assert short("x" * 300) == "x" * SHORT_DESCRIPTION + "…"  # one long word: cut inside it


def test_tag_pages_list_exactly_their_images_and_every_tag_has_its_count(
    tagged_site: Path, described: dict[str, ImageInfo]
) -> None:
    tags = sorted(p.parent.relative_to(tagged_site / "tags").as_posix() for p in tagged_site.glob("tags/*/index.html"))
    assert tags == ["brand", "café", "sea", "sky"]  # the folder is the tag itself
    sea = (tagged_site / "tags" / "sea" / "index.html").read_text()
    assert cards_of(sea) == ["System image", "Logo", "Sunset &amp; &lt;sea&gt;"]  # newest first, as the index
    assert "3 images: 2 tenant, 1 system" in sea
    assert cards_of((tagged_site / "tags" / "café" / "index.html").read_text()) == ["Sunset &amp; &lt;sea&gt;"]
    listing = (tagged_site / "tags" / "index.html").read_text()
    found = re.findall(r'<a href="\.\./([^"]+)" rel="tag">([^<]+)</a> <span class="count">([^<]+)</span>', listing)
    assert found == [
        ("tags/brand/", "brand", "1 image"),
        ("tags/caf%C3%A9/", "café", "1 image"),  # the link percent-encoded, the name as it is
        ("tags/sea/", "sea", "3 images"),
        ("tags/sky/", "sky", "1 image"),
    ]
    # Chips on the cards and on the image page link to the tags' pages; every link of every tag page resolves.
    assert '<a href="./tags/caf%C3%A9/" rel="tag">café</a>' in (tagged_site / "index.html").read_text()
    photo = page(tagged_site, described["photo"])
    assert re.findall(r'<a href="\.\./\.\./(tags/[^"]+)" rel="tag">', photo) == [
        "tags/sea/",
        "tags/sky/",
        "tags/caf%C3%A9/",
    ]
    for listed in tagged_site.glob("tags/**/index.html"):
        assert broken(tagged_site, listed) == [], listed


def broken(site: Path, page_file: Path) -> list[str]:
    """The relative links of a page that name no file of the site (percent-decoded, as a server reads them)."""
    from urllib.parse import unquote, urlsplit

    missing = []
    for link in links(page_file.read_text()):
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or link.startswith(("#", "/")):
            continue
        target = (page_file.parent / unquote(parts.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file() or not target.is_relative_to(site.resolve()):
            missing.append(link)
    return missing


def test_gallery_json_says_what_most_images_lack_only_when_they_have_it(
    tagged_site: Path, described: dict[str, ImageInfo]
) -> None:
    cards = {card["t"]: card for card in site_cards(tagged_site)}
    photo = cards["Sunset & <sea>"]
    assert (photo["a"], photo["g"]) == (HOSTILE_ALT, ["sea", "sky", "café"])  # data, read back exactly
    assert photo["d"] == short(DESCRIPTION)
    assert re.fullmatch(r"r/[0-9a-f]{16}-1280\.webp", photo["x"])  # the viewer's picture: the largest rendition
    assert "a" not in cards["System image"]  # no alt text: the title says it
    spinner = cards["Spinner"]
    assert not {"a", "g", "d", "x"} & set(spinner)  # 60 px wide: its one rendition is the thumbnail
    assert "x" not in cards["Vector icon"]  # an SVG is shown as itself


def test_a_changed_tag_set_renders_exactly_the_pages_it_changes(
    tagged_site: Path, gallery: Gallery, described: dict[str, ImageInfo], seed: Seed
) -> None:
    """A tag given or taken renders again the image's page, the index page holding its card, the tags' page and the
    pages of every tag whose list holds the card; a tag no image carries any more takes its page with it."""
    admin = as_principal(seed.users["admin"])
    photo, logo = described["photo"], described["logo"]

    def rebuild() -> tuple[dict[str, int], set[str]]:
        before = inodes(tagged_site)
        code, output = build(tagged_site, *scope(seed))
        assert code == 0, output
        after = inodes(tagged_site)
        return after, {p for p in set(before) | set(after) if before.get(p) != after.get(p)}

    gallery.images.update_info(admin, Scope.TENANT, photo.resource_key, InfoChange(tags=("sea", "dusk")))
    _, changed = rebuild()
    photo_pages = {"index.html", f"images/{photo.id}/index.html", "search/0.json", "gallery-version.json"}
    assert changed == photo_pages | {
        "tags/index.html",
        "tags/sea/index.html",  # the photo's card changed in it
        "tags/dusk/index.html",  # new
        "tags/sky/index.html",  # gone
        "tags/café/index.html",  # gone
    }
    assert not (tagged_site / "tags" / "sky").exists()
    assert not (tagged_site / "tags" / "café").exists()
    assert (tagged_site / "tags" / "brand" / "index.html").is_file()  # the logo's, untouched
    # The logo's alt text: its card changes, so every list holding it, and nothing else.
    gallery.images.update_info(admin, Scope.TENANT, logo.resource_key, InfoChange(alt_text="A green square"))
    _, changed = rebuild()
    assert changed == {
        "index.html",
        f"images/{logo.id}/index.html",
        "search/0.json",
        "gallery-version.json",
        "tags/brand/index.html",
        "tags/sea/index.html",
    }
    # Nothing changed: nothing written.
    _, changed = rebuild()
    assert changed == set()


def test_tag_pages_are_paged_like_the_index(
    tmp_path: Path, env: dict[str, str], gallery: Gallery, described: dict[str, ImageInfo], seed: Seed
) -> None:
    admin = as_principal(seed.users["admin"])
    for n in range(2):  # five images tagged `sea`: blocks of two, the newest of one
        gallery.images.upload(admin, f"wave-{n}.png", png(20 + n, 20), f"Wave {n}", None)
        gallery.images.update_info(admin, Scope.TENANT, f"wave-{n}.png", InfoChange(tags=("sea",)))
    out = tmp_path / "paged"
    code, output = build(out, *scope(seed), "--page-size", "2")
    assert code == 0, output
    first = (out / "tags" / "sea" / "index.html").read_text()
    second = (out / "tags" / "sea" / "page" / "1" / "index.html").read_text()
    assert len(cards_of(first)) == 3  # never a first page of one card
    assert len(cards_of(second)) == 2
    assert cards_of(second) == ["Logo", "Sunset &amp; &lt;sea&gt;"]  # the oldest block keeps its address
    assert '<a rel="next" href="../../tags/sea/page/1/">Older</a>' in first
    assert '<a rel="prev" href="../../../../tags/sea/">Newer</a>' in second
    assert ">Oldest<" not in first
    assert ">Newest<" not in second
    assert re.search(r"Added (on \d{4}-\d\d-\d\d|from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d)<", second)
    for listed in out.glob("tags/**/index.html"):
        assert broken(out, listed) == [], listed


def test_a_tag_folder_stays_inside_tags() -> None:
    assert site_layout.tag_folder("café") == "tags/café/"
    assert site_layout.tag_page("café") == "tags/caf%C3%A9/"
    for bad in ("", ".", "..", "a/b", "..\\x", "a\0b", "index.html"):  # the last: the page of every tag
        with pytest.raises(ValueError, match="cannot name a folder"):
            site_layout.tag_folder(bad)


def test_a_sitemap_lists_the_tag_pages_encoded(
    tmp_path: Path, env: dict[str, str], described: dict[str, ImageInfo], seed: Seed
) -> None:
    out = tmp_path / "published"
    code, output = build(out, *scope(seed), "--site-url", "https://img.example/")
    assert code == 0, output
    sitemap = sitemap_urls(out, "https://img.example/")
    assert "https://img.example/tags/" in sitemap
    assert "https://img.example/tags/caf%C3%A9/" in sitemap
