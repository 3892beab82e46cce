"""Where things are in the static site: one declaration for the build that writes them, `gallery serve` that
serves them and `gallery publish` that uploads them with their headers. (The theme's scripts fetch the search index
and link the management page by these names too; they are plain files and repeat them.)
"""

from __future__ import annotations

from gallery.domain.model import path_segment

RENDITIONS = "r"  # content-hashed renditions: `<hash>-<width>.<ext>`
ORIGINALS = "originals"  # the stored bytes, named by their SHA-256 and the extension of their sniffed type
IMAGE_PAGES = "images"  # one page per image: `images/<id>/`
INDEX_PAGES = "page"  # the index's pages after the first: `page/<block>/`, blocks counted from the oldest (paging.py)
# Every tag with its count (`tags/`), and a page per tag (`tags/<tag>/`, paged like the index: `tags/<tag>/page/<n>/`).
TAG_PAGES = "tags"
# The index page's search reads every card: `gallery.json` names the shards that hold them (`search/<n>.json`, cut
# like the sitemap's by `paging.shards`, so an upload rewrites one shard rather than a file of every card).
SEARCH_INDEX = "gallery.json"
SEARCH_SHARDS = "search"
# A hash of the shards: a few bytes an open index page asks for when it is looked at again, to learn of changes.
SEARCH_VERSION = "gallery-version.json"
# Fingerprints of the pages the site holds, kept with them (a living site's generations each have their own): a
# build renders only pages whose fingerprint changed. Never served, never published (a dot file).
PAGES_MANIFEST = ".gallery-pages.json"
# With the site's address known, `sitemap.xml` is an index of sitemaps: the lists' pages (`sitemap-lists.xml`) and
# a sitemap per shard of the index (`sitemap-<n>.xml`: its blocks' pages and its images' pages). Beside the index
# at the root, not in a folder: a sitemap may list only URLs under its own folder (sitemaps.org, "Sitemap file
# location").
SITEMAP = "sitemap.xml"
SITEMAP_PARTS = "sitemap-"
MANAGE_URL = "manage/"  # the management app's page
API_URL = "api-docs/"  # the API browser's page (the OpenAPI document in Swagger UI)

# Content-addressed folders: a name never holds other bytes, so caches keep them for good.
HASHED_DIRS = (f"{RENDITIONS}/", f"{ORIGINALS}/")
# Folders whose files are users' bytes (or made from them): typed by what we stored, and never rendered as a
# document on the origin the site shares with the API and the management page.
USER_BYTES_DIRS = (f"{RENDITIONS}/", f"{ORIGINALS}/")
# Folders the build owns whole: after a build, whatever in them this build did not produce goes.
MANAGED = (RENDITIONS, ORIGINALS, IMAGE_PAGES, INDEX_PAGES, TAG_PAGES, SEARCH_SHARDS)


def rendition(name: str) -> str:
    return f"{RENDITIONS}/{name}"


def original(etag: str, extension: str) -> str:
    return f"{ORIGINALS}/{etag}.{extension}"


def search_shard(number: int) -> str:
    return f"{SEARCH_SHARDS}/{number}.json"


def sitemap_shard(name: int | str) -> str:
    return f"{SITEMAP_PARTS}{name}.xml"


def image_page(image_id: str) -> str:
    """The page's URL path; its file is `index.html` inside."""
    return f"{IMAGE_PAGES}/{image_id}/"


def tag_folder(tag: str) -> str:
    """The folder of a tag's page, named by the tag itself (its file is `index.html` inside). A tag is checked to
    be letters, digits and `-_.` when it is kept (`validation.tag`); this only holds the folder inside `tags/`,
    whatever a row from elsewhere says."""
    if tag in {"", ".", "..", "index.html"} or any(c in tag for c in "/\\\0"):
        raise ValueError(f"{tag!r} cannot name a folder of the site")
    return f"{TAG_PAGES}/{tag}/"


def link(folder: str) -> str:
    """A page's folder as a link writes it: each segment percent-encoded (`model.path_segment`: a tag of any
    script, `tags/café/`, is linked as `tags/caf%C3%A9/`)."""
    return "/".join(path_segment(part) for part in folder.split("/"))


def tag_page(tag: str) -> str:
    """A tag's page as a link, from the site's root."""
    return link(tag_folder(tag))


# The site's root as seen from an image page (`images/<id>/`): what its links to site files start with.
IMAGE_PAGE_ROOT = "../.."
