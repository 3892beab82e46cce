"""The local `Catalog`: the image, dashboard and account stores as one object on one `SqliteDatabase`, as the
services and the contract tests use it. Each part is a store of its own (`images.py`, `dashboards.py`,
`accounts.py`) that satisfies its protocol alone; this class only joins them, so a method lives in one place."""

from __future__ import annotations

from gallery.storage.local.accounts import SqliteAccounts
from gallery.storage.local.dashboards import SqliteDashboards
from gallery.storage.local.images import SqliteImages


class SqliteCatalog(SqliteImages, SqliteDashboards, SqliteAccounts):
    pass
