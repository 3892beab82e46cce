"""A site builder made from an open `Gallery`: what `gallery build`, `gallery serve` and the AWS publisher share.

The builder itself (`builder.py`) is given its parts; here they come from the gallery's settings: the catalog's
site-facing side, the blob store the settings name (opened again in each render process), the packaged theme with
an optional folder of overrides, and the rendition cache (in the data folder unless named).
"""

from __future__ import annotations

from pathlib import Path

from gallery.domain import errors, site_layout
from gallery.services.site_source import Selection
from gallery.site.builder import BuildRun, SiteBuilder, SiteOptions, SiteState
from gallery.site.templates import Templates
from gallery.wiring import Gallery

CACHE = "site-cache"  # the rendition cache's folder in the data folder
PRIVATE_WARNING = (
    "PRIVATE images are included (--include-private): their pictures, names and pages are readable by anyone who "
    "can reach this site, without signing in (no export is offered for them)"
)


def selection_for(gallery: Gallery, tenant: str | None, system: bool, include_private: bool = False) -> Selection:
    """A tenant's images (by name or id; with the system's when `system`), or the system's alone."""
    tenant_id = gallery.accounts.resolve_tenant(tenant).id if tenant else None
    return Selection(tenant_id, system or not tenant_id, include_private)


def builder_for(
    gallery: Gallery, options: SiteOptions, cache: Path | None = None, templates: Path | None = None
) -> SiteBuilder:
    if templates is not None and not templates.is_dir():
        raise errors.ConfigError(f"No folder of templates at {templates}")
    cache = cache or gallery.settings.data_dir / CACHE
    return SiteBuilder(gallery.site, gallery.blob_opener, options, Templates(templates), cache)


def build_once(builder: SiteBuilder, out: Path, run: BuildRun, *, clean: bool = False) -> SiteState:
    """One build of a site that nobody serves while it is made (`gallery build`): fails, after building what it
    could, when an image could not be rendered or placed. `clean`: every page rendered again."""
    if clean:
        (out / site_layout.PAGES_MANIFEST).unlink(missing_ok=True)
    try:
        state = builder.build(out, run)
    except errors.InsufficientStorage:
        raise  # the output's disk, not the catalog: it says so itself
    except errors.GalleryError as exc:
        raise type(exc)(f"Cannot read the catalog: {exc.message}") from exc
    if not state.complete:
        raise errors.GalleryError(f"Some images were skipped: {state.summary()}")
    return state
