"""The aws `Catalog`: the image, dashboard and account stores as one object on one table, as the services and the
contract tests use it. Each part is a store of its own (`images.py`, `dashboards.py`, `accounts.py`) that satisfies
its protocol alone; this class only joins them, so a method lives in one place."""

from __future__ import annotations

from gallery.storage.aws.accounts import DynamoAccounts
from gallery.storage.aws.dashboards import DynamoDashboards
from gallery.storage.aws.images import DynamoImages
from gallery.storage.aws.table import Table


class DynamoCatalog(DynamoImages, DynamoDashboards, DynamoAccounts):
    def __init__(self, table: Table) -> None:
        super().__init__(table)
        # Images of the system tenant are charged to it like any tenant's, so it must exist before the first one.
        self.ensure_system_tenant()
