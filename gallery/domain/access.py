"""Who may do what: the caller as its token names it, and the one table of which authority may take which action.

The table is read by the HTTP layer, which refuses a request before parsing it (ThingsBoard's `@PreAuthorize`), and
again by every service method that takes a caller (images, downloads, transfer, dashboards, uploads, disabling a
user), so a caller that is not a view meets the same rule. Account administration (profiles, tenants, users) takes no
caller: its callers are the API, behind `ADMINISTER`, and the operator's own CLI. Object-level rules (whose tenant,
which user) stay in the services.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from gallery.domain import errors
from gallery.domain.model import SYSTEM_TENANT_ID, Authority, Scope


class Action(enum.Enum):
    USE_ACCOUNT = "sign out, change one's password, read one's own user and the upload limits"
    VIEW_IMAGES = "download an image or its preview by its authenticated link"
    MANAGE_IMAGES = "list, upload, change, export, import and delete images"
    MANAGE_DASHBOARDS = "keep the dashboards that refer to images"
    ENABLE_USERS = "turn a user's credentials off or on (a tenant admin: within its tenant)"
    ADMINISTER = "tenant profiles, tenants and users"


_EVERYONE = frozenset(Authority)
_ADMINS = frozenset({Authority.SYS_ADMIN, Authority.TENANT_ADMIN})

PERMISSIONS: Mapping[Action, frozenset[Authority]] = {
    Action.USE_ACCOUNT: _EVERYONE,
    Action.VIEW_IMAGES: _EVERYONE,
    Action.MANAGE_IMAGES: _ADMINS,
    Action.MANAGE_DASHBOARDS: frozenset({Authority.TENANT_ADMIN}),
    Action.ENABLE_USERS: _ADMINS,
    Action.ADMINISTER: frozenset({Authority.SYS_ADMIN}),
}


def permits(authority: Authority, action: Action) -> bool:
    return authority in PERMISSIONS[action]


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the access token says."""

    user_id: str
    email: str
    authority: Authority
    tenant_id: str
    customer_id: str
    generation: int = 0
    session_id: str = ""

    @property
    def is_sysadmin(self) -> bool:
        return self.authority is Authority.SYS_ADMIN

    def tenant_for(self, scope: Scope) -> str:
        """Tenant isolation in one line: a caller's `tenant` scope is the tenant in its token, and `system` is the
        only other tenant anyone can reach."""
        return SYSTEM_TENANT_ID if scope is Scope.SYSTEM else self.tenant_id

    def may(self, action: Action) -> bool:
        return permits(self.authority, action)

    def require(self, action: Action) -> None:
        if not self.may(action):
            raise errors.PermissionDenied()
