"""The snippets that embed an image in other pages: one generator for the static site's image pages and, mirrored
line for line in `assets/manage/format.js` (a test feeds both the same awkward keys and titles and compares their
output), for the management page's embed dialog.

Everything user-controlled is encoded for where it lands: the key as a URL path segment (`model.path_segment`, so it
cannot end an attribute, a string or the path), the alt text as attribute text or Markdown text. A picture's alt is
its alt text, or its title while it has none (`ImageInfo.alt`; `alt_of` here, for the image's JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gallery.domain.model import Scope, image_link, images_path

_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})
# Markdown text: brackets would end the alt text, and `<`/`>` would be raw HTML to some renderers.
_MARKDOWN_TEXT = str.maketrans({"\\": "\\\\", "[": "\\[", "]": "\\]", "<": "\\<", ">": "\\>", "\n": " ", "\r": " "})
_MARKDOWN_URL = str.maketrans({" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E"})


@dataclass(frozen=True)
class EmbedContext:
    """Where the pasted snippet finds things. `public_url`: the image's public link as the page should write it
    ("" when the image is private); `api_base`: the API's origin when it is not the page's own; `component_url`:
    the `<gallery-img>` script."""

    public_url: str
    api_base: str
    component_url: str


@dataclass(frozen=True)
class Snippet:
    id: str
    name: str
    code: str

    def to_json(self) -> dict[str, str]:
        # Written out: `dataclasses.asdict` deep-copies, and a build of 10,000 images spent 0.75 s in it.
        return {"id": self.id, "name": self.name, "code": self.code}


def attribute(text: str) -> str:
    return text.translate(_ATTRIBUTE)


def alt_of(image: Mapping[str, Any]) -> str:
    """What a snippet's `alt` says, from the image's JSON: `altText`, or the title when it is empty or absent (JSON
    from before alt text, or from ThingsBoard itself)."""
    return str(image.get("altText") or image["title"])


def link_of(image: Mapping[str, Any]) -> str:
    """The image's API path from its JSON (`TbResourceInfo`), encoded here whatever its `link` says."""
    scope = Scope.SYSTEM if str(image.get("link", "")).startswith(images_path(Scope.SYSTEM)) else Scope.TENANT
    return image_link(scope, str(image["resourceKey"]))


def snippets(image: Mapping[str, Any], context: EmbedContext) -> list[Snippet]:
    """The snippets for an image given as its JSON: with a public link, HTML and Markdown that need no login; always
    the `<gallery-img>` element (fetches with the visitor's token) and ThingsBoard's Angular template."""
    alt = attribute(alt_of(image))
    descriptor = image.get("descriptor") or {}
    width, height = descriptor.get("width"), descriptor.get("height")
    size = f' width="{int(width)}" height="{int(height)}"' if width and height else ""
    link = link_of(image)
    made = []
    if context.public_url:
        url = attribute(context.public_url)
        made.append(Snippet("html", "HTML (public link)", f'<img src="{url}" alt="{alt}"{size}>'))
        text = alt_of(image).translate(_MARKDOWN_TEXT)
        made.append(
            Snippet("markdown", "Markdown (public link)", f"![{text}]({context.public_url.translate(_MARKDOWN_URL)})")
        )
    base = f' api-base="{attribute(context.api_base)}"' if context.api_base else ""
    component = (
        f'<script type="module" src="{attribute(context.component_url)}"></script>\n'
        f'<gallery-img src="{link}"{base} alt="{alt}"{size}></gallery-img>'
    )
    made.append(Snippet("component", "HTML for signed-in visitors (web component)", component))
    made.append(Snippet("angular", "ThingsBoard (Angular template)", f"<img [src]=\"'{link}' | image | async\" />"))
    return made
