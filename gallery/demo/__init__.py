"""First-run set-up: a system administrator, and with `--demo` a demo tenant, its users and sample images."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from gallery.demo import samples
from gallery.domain.access import Principal
from gallery.domain.model import Authority, User
from gallery.wiring import Gallery

SYSADMIN = ("sysadmin@thingsboard.org", "sysadmin")
TENANT_ADMIN = ("tenant@thingsboard.org", "tenant")
CUSTOMER = ("customer@thingsboard.org", "customer")
DEMO_TENANT = "Demo tenant"
DEMO_LOGINS = (SYSADMIN, TENANT_ADMIN, CUSTOMER)


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    role: Authority


def as_principal(user: User) -> Principal:
    return Principal(user.id, user.email, user.authority, user.tenant_id, user.customer_id)


def first_run(gallery: Gallery, demo: bool) -> list[Login]:
    """Create the first accounts when the catalog has none; returns the logins to print (empty otherwise)."""
    accounts = gallery.accounts
    if accounts.has_users():
        return []
    if not demo:
        password = secrets.token_urlsafe(12)
        accounts.create_user(SYSADMIN[0], password, Authority.SYS_ADMIN)
        return [Login(SYSADMIN[0], password, Authority.SYS_ADMIN)]
    # ThingsBoard's well-known demo passwords, too short for the policy: made as weak, and named so on sign-in.
    sysadmin = accounts.create_user(*SYSADMIN, Authority.SYS_ADMIN, weak_password=True)
    tenant = accounts.create_tenant(DEMO_TENANT)
    admin = accounts.create_user(*TENANT_ADMIN, Authority.TENANT_ADMIN, tenant.id, weak_password=True)
    accounts.create_user(*CUSTOMER, Authority.CUSTOMER_USER, tenant.id, weak_password=True)
    for owner, picks in (
        (sysadmin, ("icon.png", "spinner.gif")),
        (admin, ("logo.png", "background.jpg", "badge.svg")),
    ):
        for file_name, title, data in samples.all_samples():
            if file_name in picks:
                gallery.images.upload(as_principal(owner), file_name, data, title, None)
    return [
        Login(*SYSADMIN, Authority.SYS_ADMIN),
        Login(*TENANT_ADMIN, Authority.TENANT_ADMIN),
        Login(*CUSTOMER, Authority.CUSTOMER_USER),
    ]
