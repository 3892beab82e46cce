"""One rule for putting a key into a URL, one generator of embed snippets: the API's `link`, the static site's
snippets and the management page's (its JavaScript re-implements both, and is fed the same awkward keys and titles
here, in Chromium, to give the same output), whatever a file was named."""

from __future__ import annotations

import html
import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from gallery.demo import as_principal
from gallery.domain.embed import EmbedContext, snippets
from gallery.domain.errors import display_size
from gallery.domain.model import Scope, image_link, path_segment
from gallery.wiring import Gallery
from tests.browser import static_server
from tests.conftest import Seed
from tests.helpers import png

# Each would break a naive link or snippet: quotes end attributes and strings, `<>` start tags, `?#` end the path,
# `%` and `+` change meaning when decoded twice, spaces, unicode, a leading dot and the characters that
# encodeURIComponent leaves alone (`!'()*`).
AWKWARD_KEYS = [
    'Logo "dark".png',
    'x"><img src=x onerror=alert(1)>.png',
    "logo.png?v=2",
    "a#b.png",
    "100%.png",
    "%2e%2e.png",
    "my img (1).png",
    "it's.png",
    "a+b&c=d;e.png",
    "ünïcødé 图片.png",
    "emoji 😀.png",
    ".hidden.png",
    "~tilde*star!.png",
    "plain-name_1.png",
]
AWKWARD_TITLES = [
    'Logo "dark"',
    "</textarea><script>alert(1)</script>",
    "[link](javascript:alert(1)) \\ end",
    "it's & <b>bold</b>",
    "two\nlines",
    "ünïcødé 图片 😀",
]
# What an `<img alt>` says is the alt text, or the title when there is none: absent (JSON from ThingsBoard, or from
# before alt text), empty, or as hostile as a title.
AWKWARD_ALTS: list[str | None] = [None, "", '"><script>alert(1)</script>', "A [bracket] \\ and <b>tag</b>", "ünï 😀"]
CONTEXTS = [
    EmbedContext("", "", "/assets/gallery-img.js"),
    EmbedContext("https://cdn.example.com/api/images/public/abcDEF123", "", "/assets/gallery-img.js"),
    EmbedContext(
        "https://api.example.com/x (y)/api/images/public/k",
        'https://api.example.com/"quoted"',
        "https://site.example.com/assets/gallery-img.js?v=<1>",
    ),
]


SIZES = [0, 1, 1023, 1024, 20_000, 1_048_575, 1_048_576, 52_428_800, 3 * 2**30 + 5, 2**50]


def image_json(
    key: str, title: str, system: bool = False, size: tuple[int, int] | None = (40, 30), alt: str | None = None
) -> dict[str, Any]:
    scope = Scope.SYSTEM if system else Scope.TENANT
    descriptor = {"width": size[0], "height": size[1]} if size else {}
    made = {"title": title, "resourceKey": key, "link": image_link(scope, key), "descriptor": descriptor}
    return made if alt is None else {**made, "altText": alt}


def alt_expected(image: dict[str, Any]) -> str:
    return str(image.get("altText") or image["title"])


def cases() -> list[tuple[dict[str, Any], EmbedContext]]:
    made = []
    for n, key in enumerate(AWKWARD_KEYS):
        title = AWKWARD_TITLES[n % len(AWKWARD_TITLES)]
        alt = AWKWARD_ALTS[n % len(AWKWARD_ALTS)]
        made.append((image_json(key, title, system=n % 3 == 0, size=None if n % 5 == 4 else (40 + n, 30), alt=alt),
                     CONTEXTS[n % len(CONTEXTS)]))  # fmt: skip
    return made


class Tags(HTMLParser):
    """The elements a snippet would create if pasted into a page, with their attributes decoded."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(code)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_a_key_is_one_path_segment_that_decodes_back_to_itself(key: str) -> None:
    segment = path_segment(key)
    assert set(segment) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%")
    assert urllib.parse.unquote(segment) == key
    assert urllib.parse.urlsplit(f"https://h{image_link(Scope.TENANT, key)}").path == f"/api/images/tenant/{segment}"


def test_known_encodings() -> None:
    assert path_segment("logo.png?v=2") == "logo.png%3Fv%3D2"
    assert path_segment("my img (1).png") == "my%20img%20%281%29.png"  # as tb-rest-client sends it
    assert path_segment("it's") == "it%27s"
    assert path_segment("é") == "%C3%A9"
    assert path_segment("plain-name_1.png") == "plain-name_1.png"  # ordinary keys: the link ThingsBoard gives


@pytest.mark.parametrize(("image", "context"), cases(), ids=lambda v: v["resourceKey"] if isinstance(v, dict) else "")
def test_snippets_make_only_the_elements_they_mean_to(image: dict[str, Any], context: EmbedContext) -> None:
    made = {s.id: s.code for s in snippets(image, context)}
    link = image["link"]
    assert link.startswith(("/api/images/tenant/", "/api/images/system/"))
    assert urllib.parse.unquote(link.rsplit("/", 1)[1]) == image["resourceKey"]
    component = Tags(made["component"]).tags
    assert [tag for tag, _ in component] == ["script", "gallery-img"]
    assert component[0][1]["src"] == context.component_url
    assert component[1][1]["src"] == link
    assert component[1][1]["alt"] == alt_expected(image)
    assert component[1][1].get("api-base") == (context.api_base or None)
    angular = Tags(made["angular"]).tags
    assert angular == [("img", {"[src]": f"'{link}' | image | async"})]
    if context.public_url:
        (tag, attrs), *rest = Tags(made["html"]).tags
        assert (tag, rest, attrs["src"], attrs["alt"]) == ("img", [], context.public_url, alt_expected(image))
        # one image whose text keeps every bracket escaped, and a target with nothing that ends it early
        parsed = re.fullmatch(r"!\[((?:[^\[\]\\\n]|\\.)*)\]\(([^\s()<>]+)\)", made["markdown"])
        assert parsed, made["markdown"]
        assert urllib.parse.unquote(parsed[2]) == context.public_url
    else:
        assert set(made) == {"component", "angular"}


def test_the_management_page_makes_the_same_links_and_snippets(browser: Any, manage_site: Path) -> None:
    """format.js, loaded as the page loads it, against gallery.domain.model and gallery.domain.embed."""
    chosen = cases()
    with static_server(manage_site) as url:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{url}/")
        from_js = page.evaluate(
            """async ([keys, cases, sizes]) => {
                const m = await import("/assets/manage/format.js");
                return {
                    segments: keys.map(m.pathSegment),
                    paths: cases.map(([image]) => m.imagePath(image)),
                    snippets: cases.map(([image, context]) => m.snippets(image, context)),
                    sizes: sizes.map(m.formatSize),
                };
            }""",
            [
                AWKWARD_KEYS,
                [
                    [image, {"publicUrl": c.public_url, "apiBase": c.api_base, "componentUrl": c.component_url}]
                    for image, c in chosen
                ],
                SIZES,
            ],
        )
        context.close()
    assert from_js["segments"] == [path_segment(key) for key in AWKWARD_KEYS]
    assert from_js["paths"] == [image["link"] for image, _ in chosen]
    assert from_js["snippets"] == [[s.to_json() for s in snippets(image, c)] for image, c in chosen]
    assert from_js["sizes"] == [display_size(n) for n in SIZES]  # a hint and the server's refusal agree


# --- the static site ----------------------------------------------------------------------------------------------


def test_the_static_site_encodes_a_hostile_file_name_in_every_snippet(
    gallery: Gallery, seed: Seed, env: dict[str, str], tmp_path: Path
) -> None:
    from tests.site_fixtures import build

    name = 'x"><img src=x onerror=alert(1)>.png'
    image = gallery.images.upload(as_principal(seed.users["admin"]), name, png(64, 48), 'Logo "dark"', None)
    out = tmp_path / "site"
    code, output = build(out, "--tenant", seed.tenants["A"].name)
    assert code == 0, output
    page = (out / "images" / image.id / "index.html").read_text()
    codes = [html.unescape(area) for area in _textareas(page)]
    assert len(codes) == 5  # HTML, Markdown, responsive, web component, Angular
    expected = {s.id: s.code for s in snippets(image.to_json(), _site_context(image.public_key))}
    for kept in ("html", "markdown", "component", "angular"):
        assert expected[kept] in codes
    for snippet in codes:
        for tag, attrs in Tags(snippet).tags:
            assert tag in {"img", "picture", "source", "script", "gallery-img"}, snippet
            assert "onerror" not in attrs, snippet
    assert image.link == "/api/images/tenant/x%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.png"


def _site_context(public_key: str) -> EmbedContext:
    return EmbedContext(f"/api/images/public/{public_key}", "", "/assets/gallery-img.js")


class _Areas(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.inside = False
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "textarea":
            self.inside = True
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        self.inside = self.inside and tag != "textarea"

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.found[-1] += data

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")


def _textareas(page: str) -> list[str]:
    parser = _Areas()
    parser.feed(page)
    return parser.found
