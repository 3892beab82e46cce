"""What the theme's templates and the index script see: plain dicts built from an image and its renditions.

Paths are relative to the site root (templates prefix MkDocs' `base_url`); snippets are absolute when the site or
API URL is configured, root-relative otherwise, because they are pasted into other pages. The snippets are
`gallery.domain.embed`'s, the management page's too, plus a responsive one that only the site's renditions make
possible.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from gallery.domain import formats, site_layout
from gallery.domain.embed import EmbedContext, Snippet, attribute, snippets
from gallery.domain.errors import display_size
from gallery.services.transfer import export_data
from gallery.site.render import Item, Options, original_path
from gallery.site.renditions import WEBP, Rendition, RenditionPlan

SIZES = "(max-width: 700px) 100vw, 640px"
# What the viewer's caption shows of a description (the whole is on the image page), and what `gallery.json` holds.
SHORT_DESCRIPTION = 140
_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")


def origin(url: str) -> str:
    """Where the API is when no api_url names it: the site's origin ("https://x.example/pics" → "https://x.example";
    "" or a path alone → "", root-relative)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def _srcset(renditions: tuple[Rendition, ...], root: str) -> str:
    """`root`: the site's root as the page holding the srcset reaches it (relative, or the published URL)."""
    return ", ".join(f"{root}/{site_layout.rendition(r.name)} {r.width}w" for r in renditions)


def _middle(renditions: tuple[Rendition, ...]) -> Rendition:
    """The `src` for browsers without srcset: the largest rendition no wider than 640 px."""
    fitting = [r for r in renditions if r.width <= 640]
    return fitting[-1] if fitting else renditions[0]


def image_view(item: Item, api_url: str, site_url: str, options: Options) -> dict[str, Any]:
    """`api_url`: the API's origin when it is not the site's ("" when both share one); `site_url`: where the site is
    published ("" when unknown: links stay root-relative)."""
    image, plan = item.image, item.plan
    # Named by what we made, never by the key a user chose: `x.html` must not become an HTML file on our origin.
    original = original_path(image)
    width, height = image.original.width, image.original.height
    view: dict[str, Any] = {
        "id": image.id,
        "title": image.title,
        "alt": image.alt,
        "description": paragraphs(image.description),
        "tags": image.tags,
        "key": image.resource_key,
        "file_name": image.file_name,
        "system": image.is_system,
        "media_type": image.original.media_type,
        "type_name": formats.name_of(image.original.media_type),
        "width": width,
        "height": height,
        "size": image.size,
        "size_text": display_size(image.size),
        "created": datetime.fromtimestamp(image.created_time / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "created_ms": image.created_time,
        "original_path": original,
        "original_url": original if options.needs_original(image, plan) else None,
        # The export's fields but its bytes, which the page's script adds from the original.
        "export": _without_data(export_data(image, b"")) if options.exports_for(image) else None,
        "page_path": site_layout.image_page(image.id),
        "sizes": SIZES,
        "public_link": f"{api_url or origin(site_url)}{image.public_link}"
        if image.public_link and image.public
        else None,
    }
    if plan.renditions:
        middle = _middle(plan.fallback)
        # The image page's srcsets, with the URLs the page uses (its links are relative: the site may be anywhere).
        if plan.webp:
            view["webp_srcset"] = _srcset(plan.webp, site_layout.IMAGE_PAGE_ROOT)
        view["fallback_srcset"] = _srcset(plan.fallback, site_layout.IMAGE_PAGE_ROOT)
        view["src"] = site_layout.rendition(middle.name)
        view["src_width"], view["src_height"] = middle.width, middle.height
    else:  # SVG: the file itself, at its own size
        view["src"] = view["original_url"]
        view["src_width"], view["src_height"] = width, height
    view["thumb"] = _thumb(item, options)
    view["snippets"] = _snippets(view, item, api_url, site_url)
    return view


def paragraphs(text: str) -> list[list[str]]:
    """A description as the page shows it: paragraphs at blank lines, each a list of its lines (the template
    escapes each and joins them with `<br>`: the text is never read as HTML or Markdown)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return [part.split("\n") for part in _BLANK_LINES.split(text)] if text else []


def short(text: str, limit: int = SHORT_DESCRIPTION) -> str:
    """The opening of a description on one line, cut at a word with an ellipsis when longer than `limit`."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    head = flat[: limit + 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else flat[:limit]
    return f"{cut.rstrip(' ,.;:')}…"


def _thumb(item: Item, options: Options) -> dict[str, Any]:
    """What a card shows: the smallest WebP with the fallback, or an SVG itself at its own size."""
    plan, original = item.plan, item.image.original
    if not plan.renditions:
        url = original_path(item.image) if options.needs_original(item.image, plan) else None
        return {"src": url, "webp": None, "w": original.width, "h": original.height}
    thumb = plan.fallback[0]
    webp = site_layout.rendition(plan.webp[0].name) if plan.webp else None
    return {"src": site_layout.rendition(thumb.name), "webp": webp, "w": thumb.width, "h": thumb.height}


def _without_data(fields: dict[str, Any]) -> dict[str, Any]:
    del fields["data"]
    return fields


# The plain-HTML snippets, pasted into other sites: their links must be whole, as the management page's are.
_PLAIN = frozenset({"html", "markdown", "responsive"})


def _snippets(view: dict[str, Any], item: Item, api_url: str, site_url: str) -> list[dict[str, Any]]:
    """The snippets, each marked `relative` when its links start at the site's root because the build was not told
    the site's or the API's address: the page's script then makes them whole from the page's own address."""
    context = EmbedContext(view["public_link"] or "", api_url, f"{site_url}/assets/gallery-img.js")
    made = snippets(item.image.to_json(), context)
    if item.plan.fallback:
        at = sum(1 for s in made if s.id in {"html", "markdown"})
        made.insert(
            at, Snippet("responsive", "Responsive (srcset, from this site)", _responsive(view, item.plan, site_url))
        )
    known = {"html": api_url or site_url, "markdown": api_url or site_url, "responsive": site_url}
    return [{**s.to_json(), "relative": s.id in _PLAIN and not known[s.id]} for s in made]


def _responsive(view: dict[str, Any], plan: RenditionPlan, site_url: str) -> str:
    source = ""
    if plan.webp:
        source = f'\n  <source type="{WEBP}" srcset="{_srcset(plan.webp, site_url)}" sizes="{SIZES}">'
    return (
        f'<picture>{source}\n  <img src="{site_url}/{view["src"]}" srcset="{_srcset(plan.fallback, site_url)}" '
        f'sizes="{SIZES}" alt="{attribute(view["alt"])}" width="{view["src_width"]}" height="{view["src_height"]}" '
        f'loading="lazy" decoding="async">\n</picture>'
    )


def card(item: Item, options: Options) -> dict[str, Any]:
    """One image in the index and in `gallery.json` (short keys: the file lists every image). Made from the row
    alone, not from the page's view: a build lists every image but renders only the pages that changed.

    What most images lack is left out rather than written empty: the alt text (`a`) where it is not the title,
    tags (`g`), the opening of the description (`d`, what the viewer's caption shows), and the viewer's picture
    (`x`: the largest rendition, where it is not the thumbnail already: an SVG is shown as itself). The largest
    alone, not a srcset: a window the viewer fills wants it (a phone's too, at two or three pixels a point), and
    every width's name made gallery.json 40% larger."""
    image = item.image
    thumb = _thumb(item, options)
    found: dict[str, Any] = {
        "t": image.title,
        "p": site_layout.image_page(image.id),
        "s": image.is_system,
        "w": image.original.width,
        "h": image.original.height,
        "b": image.size,
        "z": display_size(image.size),
        "c": image.created_time,
        "i": thumb["src"],
        "v": thumb["webp"],
        "iw": thumb["w"],
        "ih": thumb["h"],
    }
    if image.alt != image.title:
        found["a"] = image.alt
    if image.tags:
        found["g"] = list(image.tags)
    if image.description:
        found["d"] = short(image.description)
    largest = (item.plan.webp or item.plan.fallback or (None,))[-1]
    if largest is not None and site_layout.rendition(largest.name) not in (thumb["webp"], thumb["src"]):
        found["x"] = site_layout.rendition(largest.name)
    return found


def page_inputs(item: Item, options: Options, api_url: str, site_url: str) -> str:
    """Everything an image's page is made from, as text to fingerprint: the row (every field it has), its
    renditions and the site's settings. Equal inputs make an equal page (with the same theme and code), so a build
    knows which pages to render without making their views. Whether the image is see-through counts by the
    renditions it chose alone: a row from before it was recorded, once a render learnt it, makes the same page (the
    AWS publisher's daily pass would otherwise publish every such image again)."""
    return repr((replace(item.image, has_alpha=None), item.plan, options, api_url, site_url))


def counts(total: int, system: int) -> dict[str, int]:
    return {"total": total, "system": system, "tenant": total - system}


def span(oldest: dict[str, Any], newest: dict[str, Any]) -> dict[str, str]:
    """The days (UTC) a page of cards was added over, by its oldest and newest card: what a page after the first
    says of itself (a page number from the newest would change on every page whenever a block is added)."""
    return {"first": _day(oldest["c"]), "last": _day(newest["c"])}


def _day(created_ms: int) -> str:
    return datetime.fromtimestamp(created_ms / 1000, UTC).strftime("%Y-%m-%d")
