"""What a list page, a tag filter and a search cost on the embedded default when one tenant holds 100,000 images,
against the same calls when it holds 1,000 (same process, calls interleaved). A page should cost at most 2× as much,
a substring search at most 3×: the work must not grow with the gallery.

Every image carries one of ten common tags (its word: one image in ten) and the few named ones also `flux`, so a
filter by a common tag matches 100 or 10,000 images and one by `flux` the same handful in either gallery.

The catalogs are written straight into SQLite in one transaction per thousand rows (rows only: listing reads no
bytes). `python -m benchmarks.list_scale` runs it alone.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import Comparison
from gallery.config import Settings
from gallery.domain.model import (
    SYSTEM_TENANT_ID,
    Descriptor,
    ImageInfo,
    ImageQuery,
    PageQuery,
    SortOrder,
    SubType,
    Tenant,
)
from gallery.storage.local import open_local
from gallery.storage.local.catalog import SqliteCatalog
from gallery.storage.local.rows import IMAGE_COLUMNS, image_params
from gallery.storage.protocols import Storage

SMALL, LARGE = 1_000, 100_000
PAGE = 20
ROUNDS = 30
WORDS = ["pump", "valve", "boiler", "sensor", "gauge", "motor", "fan", "tank", "pipe", "meter"]


def _row(tenant_id: str, n: int) -> ImageInfo:
    descriptor = Descriptor("image/png", 64, 48, 1000 + n % 500, uuid.uuid4().hex + uuid.uuid4().hex)
    # A few assets with a name of their own in any size of gallery, among many with common words.
    named = n % 20_000 == 7 or n in {11, 333, 777, 901}
    word = WORDS[n % len(WORDS)]
    title = f"Flux capacitor {n}" if named else f"{word.title()} {n}"
    return ImageInfo(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        resource_key=f"image-{n:06d}.png",
        title=title,
        file_name=f"image-{n:06d}.png",
        sub_type=SubType.IMAGE,
        public=True,
        public_key=uuid.uuid4().hex,
        original=descriptor,
        preview=descriptor,
        created_time=1_700_000_000_000 + n,
        updated_time=1_700_000_000_000 + n,
        tags=(word, "flux") if named else (word,),
    )


def _catalog(folder: Path, count: int) -> tuple[Storage, str]:
    storage = open_local(Settings.from_env({"GALLERY_DATA_DIR": str(folder), "GALLERY_JWT_SECRET": "x" * 40}))
    tenant = Tenant(str(uuid.uuid4()), f"Scale {count}", "", 0)
    assert isinstance(storage.catalog, SqliteCatalog)  # rows written straight into its database
    db = storage.catalog.db
    columns = ", ".join(IMAGE_COLUMNS)
    marks = ", ".join(f":{c}" for c in IMAGE_COLUMNS)
    with db.write() as conn:
        conn.execute("INSERT INTO tenant_profiles (id, name, created_time) VALUES (?, ?, 0)", (tenant.id, tenant.name))
        conn.execute(
            "INSERT INTO tenants (id, name, profile_id, created_time) VALUES (?, ?, ?, 0)",
            (tenant.id, tenant.name, tenant.id),
        )
    for start in range(0, count, 1000):
        with db.write() as conn:
            conn.executemany(
                f"INSERT INTO images ({columns}) VALUES ({marks})",  # noqa: S608
                [image_params(_row(tenant.id, n)) for n in range(start, min(count, start + 1000))],
            )
    with db.write() as conn:
        conn.executemany(
            f"INSERT INTO images ({columns}) VALUES ({marks})",  # noqa: S608
            [image_params(_row(SYSTEM_TENANT_ID, 900_000 + n)) for n in range(50)],
        )
    return storage, tenant.id


def _median(call: Callable[[], object]) -> float:
    call()
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run() -> list[Comparison]:
    with tempfile.TemporaryDirectory() as tmp:
        small, small_tenant = _catalog(Path(tmp) / "small", SMALL)
        large, large_tenant = _catalog(Path(tmp) / "large", LARGE)

        def calls(storage: Storage, tenant: str, count: int) -> dict[str, Callable[[], object]]:
            last = count // PAGE - 1
            own, mixed = ImageQuery(tenant), ImageQuery(tenant, include_system=True)
            pumps, flux_tanks = ImageQuery(tenant, tags=("pump",)), ImageQuery(tenant, tags=("flux", "tank"))
            mixed_pumps = ImageQuery(tenant, include_system=True, tags=("pump",))
            tanks = ImageQuery(tenant, tags=("tank",))  # as the named "Flux capacitor 7" and 777 do
            newest = {"sort_property": "createdTime", "sort_order": SortOrder.DESC}
            by_title = {"sort_property": "title", "sort_order": SortOrder.ASC}
            list_images = storage.catalog.list_images
            return {
                "first page, newest first": lambda: list_images(own, PageQuery(PAGE, 0, **newest)),  # type: ignore[arg-type]
                "first page, by title": lambda: list_images(own, PageQuery(PAGE, 0, **by_title)),  # type: ignore[arg-type]
                "first page, with system images": lambda: list_images(mixed, PageQuery(PAGE, 0, **newest)),  # type: ignore[arg-type]
                "last page, newest first": lambda: list_images(own, PageQuery(PAGE, last, **newest)),  # type: ignore[arg-type]
                "last page, by title": lambda: list_images(own, PageQuery(PAGE, last, **by_title)),  # type: ignore[arg-type]
                "title search": lambda: list_images(own, PageQuery(PAGE, 0, text_search="capacit")),
                "common tag, first page": lambda: list_images(pumps, PageQuery(PAGE, 0, **newest)),  # type: ignore[arg-type]
                "common tag, last page": lambda: list_images(pumps, PageQuery(PAGE, last // 10, **newest)),  # type: ignore[arg-type]
                "common tag, by title": lambda: list_images(pumps, PageQuery(PAGE, 0, **by_title)),  # type: ignore[arg-type]
                "common tag, with system images": lambda: list_images(mixed_pumps, PageQuery(PAGE, 0, **newest)),  # type: ignore[arg-type]
                "rare and common tag": lambda: list_images(flux_tanks, PageQuery(PAGE, 0, **newest)),  # type: ignore[arg-type]
                "search within a common tag": lambda: list_images(tanks, PageQuery(PAGE, 0, text_search="capacit")),
            }

        results = []
        for (name, small_call), large_call in zip(
            calls(small, small_tenant, SMALL).items(), calls(large, large_tenant, LARGE).values(), strict=True
        ):
            limit = 3.0 if "search" in name or "rare" in name else 2.0  # their matches: 2 vs 6 images
            ratio_times = (_median(large_call), _median(small_call))
            results.append(Comparison(f"{name}: 100,000 vs 1,000 images (s)", *ratio_times, limit))
        small.close()
        large.close()
    return results


if __name__ == "__main__":
    for result in run():
        print(result.line())
