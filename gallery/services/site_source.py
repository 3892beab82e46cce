"""The catalog as a static site reads it: which images a site shows, what changed for it since a cursor, and what
a build learnt by decoding. The site builder is given this, and nothing else of the catalog, so it needs no
caller, no paging and no write but one flag."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from gallery import imaging
from gallery.domain.model import SYSTEM_TENANT_ID, ImageInfo, SubType
from gallery.services.privacy import publishes_metadata
from gallery.storage.protocols import Catalog


@dataclass(frozen=True)
class Selection:
    """Which images a static site shows: one tenant's (with or without system images), or the system's alone;
    public ones only unless `include_private` (the site is for anonymous visitors: it holds nothing the API would
    refuse them without a login)."""

    tenant_id: str | None = None
    system: bool = False
    include_private: bool = False

    @property
    def owners(self) -> tuple[str, ...]:
        """The tenants whose images it shows, the one a shadowing image comes from first."""
        owners = (self.tenant_id,) if self.tenant_id else ()
        return owners + ((SYSTEM_TENANT_ID,) if self.system or not self.tenant_id else ())

    def admits(self, image: ImageInfo) -> bool:
        """Whether the site may show `image` (it may still be shadowed: see `shown`)."""
        return image.tenant_id in self.owners and (image.public or self.include_private)


def shown(admitted: Iterable[ImageInfo]) -> list[ImageInfo]:
    """What a site shows of the images its selection admits, newest first: a tenant image shadows a system image
    with the same key (as a tenant's link to that key would find its own)."""
    found: dict[str, ImageInfo] = {}
    for image in admitted:
        held = found.get(image.resource_key)
        if held is None or (held.is_system and not image.is_system):
            found[image.resource_key] = image
    return sorted(found.values(), key=lambda i: (-i.created_time, i.id))


@dataclass(frozen=True)
class SiteChanges:
    """What changed for a site since a cursor (`ImageService.site_changes`): images it admits as they are now, and
    the ids of those it no longer does (removed, made private, moved out of its tenants)."""

    cursor: int
    admitted: tuple[ImageInfo, ...]
    dropped: frozenset[str]


class SiteSource:
    """The images a site reads come with `public_original` as the site publishes them: the public copy, or the
    original itself for a tenant whose profile publishes the bytes as uploaded (`services.privacy`)."""

    def __init__(self, catalog: Catalog, decode_limits: imaging.DecodeLimits) -> None:
        self.catalog = catalog
        self.decode_limits = decode_limits

    def _published(self, images: Iterable[ImageInfo]) -> Iterator[ImageInfo]:
        """Each tenant's profile read once per call."""
        publishes: dict[str, bool] = {}
        for image in images:
            if image.tenant_id not in publishes:
                publishes[image.tenant_id] = publishes_metadata(self.catalog, image.tenant_id)
            yield replace(image, public_original=image.original) if publishes[image.tenant_id] else image

    def change_count(self) -> int | None:
        """Moves whenever an image is added, changed or removed, by any process (what keeps `gallery serve`'s site
        current); None when the backend cannot say cheaply."""
        return self.catalog.change_count()

    def shown(self, selection: Selection) -> list[ImageInfo]:
        """The images a static site shows, newest first."""
        return shown(self.candidates(selection))

    def candidates(self, selection: Selection) -> Iterator[ImageInfo]:
        """Every image `selection` admits, shadowed ones too, read in one pass per tenant and sub type."""
        for owner in selection.owners:
            for sub_type in SubType:
                admitted = (image for image in self.catalog.every_image(owner, sub_type) if selection.admits(image))
                yield from self._published(admitted)

    def visible(self, selection: Selection, resource_key: str) -> ImageInfo | None:
        """The image `selection`'s site shows for a resource key, if any: one read per owner."""
        found = [self.catalog.get_image(owner, resource_key) for owner in selection.owners]
        chosen = shown(image for image in found if image is not None and selection.admits(image))
        return next(self._published(chosen), None)

    def cursor(self) -> int | None:
        """Where the catalog's change log ends: read it before `candidates` to take up from there with `changes`.
        None where there is no log (DynamoDB)."""
        return self.catalog.change_cursor()

    def changes(self, selection: Selection, cursor: int) -> SiteChanges | None:
        """What changed for `selection`'s site since `cursor`, by any process; None when the catalog cannot say
        (no log, or one that no longer reaches back that far): read `candidates` again."""
        changes = self.catalog.changes_since(cursor)
        if changes is None:
            return None
        admitted = tuple(self._published(image for image in changes.changed if selection.admits(image)))
        kept = {image.id for image in admitted}
        dropped = changes.removed | {image.id for image in changes.changed if image.id not in kept}
        return SiteChanges(changes.cursor, admitted, frozenset(dropped))

    def record_alpha(self, learnt: dict[str, bool], images: Iterable[ImageInfo]) -> int:
        """Keep what a build learnt by decoding images whose rows predate `has_alpha`, so the next build needs no
        decoding. Only the flag is written, and only on the very row the build read (same id and version): an image
        changed, deleted or uploaded again under its key meanwhile is left as it is. Returns how many were kept."""
        return sum(
            1 for image in images if image.id in learnt and self.catalog.learn_has_alpha(image, learnt[image.id])
        )
