"""Dashboards, kept so that images have real referrers: a dashboard whose `image` or configuration holds
`tb-image;/api/images/{scope}/{key}` protects that image from an unforced delete (ThingsBoard's rule)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from gallery.domain import errors, validation
from gallery.domain.access import Action, Principal
from gallery.domain.model import Dashboard, Page, PageQuery, now_ms
from gallery.storage.protocols import DashboardCatalog


@dataclass(frozen=True)
class DashboardDraft:
    """What a client sends to save a dashboard: a new one (no id) or a new version of one of its tenant's."""

    title: str | None
    image: str | None
    configuration: dict[str, Any]
    id: str | None = None


class DashboardService:
    def __init__(self, catalog: DashboardCatalog) -> None:
        self.catalog = catalog

    def save(self, principal: Principal, draft: DashboardDraft) -> Dashboard:
        principal.require(Action.MANAGE_DASHBOARDS)
        if draft.title is None:
            raise errors.BadRequest("Dashboard title should be specified!")
        existing = self.get(principal, draft.id) if draft.id else None
        dashboard = Dashboard(
            id=existing.id if existing else str(uuid.uuid4()),
            tenant_id=principal.tenant_id,
            title=validation.title(draft.title),
            image=draft.image,
            configuration=draft.configuration,
            created_time=existing.created_time if existing else now_ms(),
        )
        self.catalog.save_dashboard(dashboard)
        return dashboard

    def get(self, principal: Principal, dashboard_id: str) -> Dashboard:
        principal.require(Action.MANAGE_DASHBOARDS)
        dashboard = self.catalog.get_dashboard(principal.tenant_id, dashboard_id)
        if dashboard is None:
            raise errors.NotFound()
        return dashboard

    def list(self, principal: Principal, page: PageQuery) -> Page[Dashboard]:
        principal.require(Action.MANAGE_DASHBOARDS)
        return self.catalog.list_dashboards(principal.tenant_id, page)

    def delete(self, principal: Principal, dashboard_id: str) -> None:
        principal.require(Action.MANAGE_DASHBOARDS)
        if not self.catalog.delete_dashboard(principal.tenant_id, dashboard_id):
            raise errors.NotFound()
