"""Dashboards, kept so that images have real referrers: a dashboard whose `image` or configuration holds
`tb-image;/api/images/{scope}/{key}` protects that image from an unforced delete (ThingsBoard's rule)."""

from __future__ import annotations

import uuid
from typing import Any

from gallery.domain import errors, validation
from gallery.domain.model import Authority, Dashboard, Page, PageQuery, now_ms
from gallery.services.auth import Principal
from gallery.storage.protocols import DashboardCatalog


class DashboardService:
    def __init__(self, catalog: DashboardCatalog) -> None:
        self.catalog = catalog

    @staticmethod
    def _require_tenant_admin(principal: Principal) -> None:
        if principal.authority is not Authority.TENANT_ADMIN:
            raise errors.PermissionDenied()

    def save(self, principal: Principal, body: dict[str, Any]) -> Dashboard:
        self._require_tenant_admin(principal)
        title = body.get("title")
        image = body.get("image")
        configuration = body.get("configuration") or {}
        if not isinstance(title, str):
            raise errors.BadRequest("Dashboard title should be specified!")
        if image is not None and not isinstance(image, str):
            raise errors.BadRequest("'image' must be a string")
        if not isinstance(configuration, dict):
            raise errors.BadRequest("'configuration' must be a JSON object")
        raw_id = body.get("id")
        dashboard_id = raw_id.get("id") if isinstance(raw_id, dict) else raw_id
        if dashboard_id is not None and not isinstance(dashboard_id, str):
            raise errors.BadRequest("'id' must be an id")
        existing = self.get(principal, dashboard_id) if dashboard_id else None
        dashboard = Dashboard(
            id=existing.id if existing else str(uuid.uuid4()),
            tenant_id=principal.tenant_id,
            title=validation.title(title),
            image=image,
            configuration=configuration,
            created_time=existing.created_time if existing else now_ms(),
        )
        self.catalog.save_dashboard(dashboard)
        return dashboard

    def get(self, principal: Principal, dashboard_id: str) -> Dashboard:
        self._require_tenant_admin(principal)
        dashboard = self.catalog.get_dashboard(principal.tenant_id, dashboard_id)
        if dashboard is None:
            raise errors.NotFound()
        return dashboard

    def list(self, principal: Principal, page: PageQuery) -> Page[Dashboard]:
        self._require_tenant_admin(principal)
        return self.catalog.list_dashboards(principal.tenant_id, page)

    def delete(self, principal: Principal, dashboard_id: str) -> None:
        self._require_tenant_admin(principal)
        if not self.catalog.delete_dashboard(principal.tenant_id, dashboard_id):
            raise errors.NotFound()
