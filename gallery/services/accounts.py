"""Administration of accounts: tenant profiles (a tenant's file limits), tenants and users.

What ends a user's sessions (a password reset, disabling, deletion) goes through the session service, so this
process stops honouring their tokens at once and every other within its check interval.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from gallery.domain import errors
from gallery.domain.access import Action, Principal
from gallery.domain.model import (
    SYSTEM_TENANT_ID,
    Authority,
    FileLimits,
    ImageInfo,
    Page,
    PageQuery,
    Tenant,
    TenantProfile,
    User,
    now_ms,
)
from gallery.services.credentials import check_password_policy, hash_password
from gallery.services.sessions import SessionService
from gallery.storage.protocols import AccountCatalog

DEFAULT_PROFILE_NAME = "Default"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class AccountService:
    def __init__(
        self,
        catalog: AccountCatalog,
        sessions: SessionService,
        release_images: Callable[[list[ImageInfo]], None],
    ) -> None:
        self.catalog = catalog
        self.sessions = sessions
        self._release_images = release_images

    # --- tenant profiles ----------------------------------------------------------------------------------------
    def default_profile(self) -> TenantProfile:
        profile = self.catalog.default_profile()
        if profile is None:
            profile = TenantProfile(str(uuid.uuid4()), DEFAULT_PROFILE_NAME, is_default=True, created_time=now_ms())
            self.catalog.insert_profile(profile)
        return profile

    def create_profile(
        self, name: str, limits: FileLimits, is_default: bool = False, public_metadata: bool = False
    ) -> TenantProfile:
        profile = TenantProfile(
            id=str(uuid.uuid4()),
            name=_required(name, "Tenant profile name"),
            max_resource_size=limits.max_resource_size,
            max_resources_in_bytes=limits.max_resources_in_bytes,
            is_default=is_default,
            created_time=now_ms(),
            public_metadata=public_metadata,
        )
        self.catalog.insert_profile(profile)
        return profile

    def update_profile(
        self, profile_id: str, name: str, limits: FileLimits, is_default: bool, public_metadata: bool | None = None
    ) -> TenantProfile:
        """`public_metadata` None keeps what the profile says (a client that does not know the setting)."""
        old = self.get_profile(profile_id)
        profile = TenantProfile(
            old.id,
            _required(name, "Tenant profile name"),
            limits.max_resource_size,
            limits.max_resources_in_bytes,
            is_default,
            old.created_time,
            old.public_metadata if public_metadata is None else public_metadata,
        )
        self.catalog.update_profile(profile)
        return profile

    def get_profile(self, profile_id: str) -> TenantProfile:
        profile = self.catalog.get_profile(profile_id) if profile_id != SYSTEM_TENANT_ID else None
        if profile is None:
            raise errors.NotFound()
        return profile

    def list_profiles(self, page: PageQuery) -> Page[TenantProfile]:
        return self.catalog.list_profiles(page)

    def delete_profile(self, profile_id: str) -> None:
        if profile_id == SYSTEM_TENANT_ID or not self.catalog.delete_profile(profile_id):
            raise errors.NotFound()

    # --- tenants ------------------------------------------------------------------------------------------------
    def create_tenant(self, name: str, profile_id: str | None = None) -> Tenant:
        name = _required(name, "Tenant title")
        if self.catalog.find_tenant(name) is not None:
            raise errors.AlreadyExists(f"Tenant '{name}' already exists")
        profile = self.get_profile(profile_id) if profile_id else self.default_profile()
        tenant = Tenant(str(uuid.uuid4()), name, profile.id, now_ms())
        self.catalog.insert_tenant(tenant)
        return tenant

    def create_tenant_with_limits(self, name: str, limits: FileLimits) -> Tenant:
        """A tenant with limits of its own gets a profile of its own, named after it."""
        if limits == FileLimits():
            return self.create_tenant(name)
        profile = self.create_profile(f"{_required(name, 'Tenant title')} profile", limits)
        return self.create_tenant(name, profile.id)

    def update_tenant(self, tenant_id: str, name: str, profile_id: str | None) -> Tenant:
        old = self.get_tenant(tenant_id)
        profile = self.get_profile(profile_id) if profile_id else self.get_profile(old.profile_id)
        tenant = Tenant(old.id, _required(name, "Tenant title"), profile.id, old.created_time)
        self.catalog.update_tenant(tenant)
        return tenant

    def get_tenant(self, tenant_id: str) -> Tenant:
        tenant = self.catalog.get_tenant(tenant_id) if tenant_id != SYSTEM_TENANT_ID else None
        if tenant is None:
            raise errors.NotFound()
        return tenant

    def resolve_tenant(self, name_or_id: str) -> Tenant:
        """CLI convenience: a tenant named by its title or its id."""
        tenant = self.catalog.find_tenant(name_or_id)
        if tenant is None and _UUID.match(name_or_id):
            tenant = self.catalog.get_tenant(name_or_id)
        if tenant is None or tenant.id == SYSTEM_TENANT_ID:
            raise errors.NotFound(f"No tenant named or with id '{name_or_id}'")
        return tenant

    def list_tenants(self, page: PageQuery) -> Page[Tenant]:
        return self.catalog.list_tenants(page)

    def delete_tenant(self, tenant_id: str) -> None:
        """The tenant, its images, dashboards and users go; its users' tokens stop working."""
        self.get_tenant(tenant_id)
        self._release_images(self.catalog.delete_tenant(tenant_id))
        self.sessions.forget()

    # --- users --------------------------------------------------------------------------------------------------
    def create_user(
        self,
        email: str,
        password: str,
        authority: Authority,
        tenant_id: str | None = None,
        first_name: str = "",
        last_name: str = "",
        *,
        weak_password: bool = False,
    ) -> User:
        """`weak_password`: the demo logins only — the password skips the policy and is marked as weak."""
        email = email.strip()
        if not _EMAIL.match(email) or len(email) > 255:
            raise errors.BadRequest(f"Invalid email address '{email}'")
        if not weak_password:
            check_password_policy(password, email)
        if authority is Authority.SYS_ADMIN:
            if tenant_id not in (None, SYSTEM_TENANT_ID):
                raise errors.BadRequest("A system administrator belongs to no tenant")
            owner = SYSTEM_TENANT_ID
        else:
            if not tenant_id:
                raise errors.BadRequest(f"A {authority.value} user needs a tenant")
            owner = self.get_tenant(tenant_id).id
        customer = str(uuid.uuid5(uuid.NAMESPACE_URL, f"customer:{owner}"))
        user = User(
            id=str(uuid.uuid4()),
            email=email,
            authority=authority,
            tenant_id=owner,
            password_hash=hash_password(password, weak=weak_password),
            first_name=first_name,
            last_name=last_name,
            customer_id=customer if authority is Authority.CUSTOMER_USER else SYSTEM_TENANT_ID,
            created_time=now_ms(),
        )
        self.catalog.insert_user(user)
        return user

    def get_user(self, user_id: str) -> User:
        user = self.catalog.get_user(user_id)
        if user is None:
            raise errors.NotFound()
        return user

    def set_password(self, user_id: str, password: str) -> User:
        """An administrator's reset: every session of the user ends."""
        check_password_policy(password, self.get_user(user_id).email)
        return self.sessions.changed(self.catalog.change_user(user_id, password_hash=hash_password(password)))

    def set_enabled(self, actor: Principal, user_id: str, enabled: bool) -> User:
        """ThingsBoard's `userCredentialsEnabled`: a disabled user cannot sign in, and their tokens stop working.
        A tenant administrator manages their own tenant's users; nobody disables themselves."""
        actor.require(Action.ENABLE_USERS)
        target = self.get_user(user_id)
        if actor.authority is Authority.TENANT_ADMIN and (
            target.tenant_id != actor.tenant_id or target.authority is Authority.SYS_ADMIN
        ):
            raise errors.NotFound()  # beyond the tenant's wall: not even its existence is confirmed
        if target.id == actor.user_id:
            raise errors.BadRequest("You cannot disable yourself")
        return self.sessions.changed(self.catalog.change_user(user_id, enabled=enabled))

    def list_users(self, tenant_id: str | None, page: PageQuery) -> Page[User]:
        return self.catalog.list_users(tenant_id, page)

    def delete_user(self, user_id: str, actor: Principal | None = None) -> None:
        """`actor`: who asks, when a person does (the API); nobody deletes themselves."""
        if actor is not None and actor.user_id == user_id:
            raise errors.BadRequest("You cannot delete yourself")
        if not self.catalog.delete_user(user_id):
            raise errors.NotFound()
        self.sessions.forget(user_id)

    def has_users(self) -> bool:
        return self.catalog.has_users()


def _required(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise errors.BadRequest(f"{what} should be specified!")
    if len(value) > 255:
        raise errors.BadRequest(f"{what} is longer than 255 characters")
    return value
