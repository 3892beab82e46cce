"""The living site's memory of what it shows (`Shelf`): kept change by change, it must always be what `shown`
makes of every admitted image at once — the same images, in the same order — whatever the changes."""

from __future__ import annotations

import random
from dataclasses import replace

from gallery.domain.model import SYSTEM_TENANT_ID, ImageInfo
from gallery.services.site_source import shown
from gallery.site.memory import Shelf
from tests.storage_fixtures import image

KEYS = ("logo.png", "icon.svg", "bg.jpg", "x.gif")
OWNERS = ("tenant", SYSTEM_TENANT_ID)


def test_the_shelf_is_always_what_shown_makes_of_everything_admitted() -> None:
    picks = random.Random(16)
    admitted: dict[str, ImageInfo] = {}
    shelf = Shelf()
    shelf.load([])
    for step in range(3000):
        before: list[ImageInfo] = []
        after: list[ImageInfo] = []
        # A key is one tenant's once (the catalog's rule): the free ones, per owner.
        taken = {(i.tenant_id, i.resource_key) for i in admitted.values()}
        owner = picks.choice(OWNERS)
        free = [key for key in KEYS if (owner, key) not in taken]
        action = picks.random()
        if (action < 0.4 or not admitted) and free:  # a new image (ties in created time on purpose)
            after.append(image(owner, picks.choice(free), created=picks.randint(1, 20)))
        elif action < 0.7 and admitted:  # a change: a new time, now and then another key (no such change today)
            old = admitted[picks.choice(sorted(admitted))]
            free = [key for key in KEYS if (old.tenant_id, key) not in taken]
            key = picks.choice(free) if free and picks.random() < 0.3 else old.resource_key
            before.append(old)
            after.append(replace(old, resource_key=key, created_time=picks.randint(1, 20)))
        elif admitted:  # dropped: deleted, made private, gone from the selection
            before.append(admitted.pop(picks.choice(sorted(admitted))))
        admitted.update((made.id, made) for made in after)
        shelf.change(before, after)
        expected = shown(admitted.values())
        assert [i.id for i in expected] == [image_id for _, image_id in shelf.order], step
        assert shelf.images == {i.id: i for i in expected}, step
