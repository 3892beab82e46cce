"""Accounts: login and tokens, tenants, tenant profiles and users, with the system administrator's rules."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from gallery import errors
from gallery.auth import Principal, TokenPair, Tokens, hash_password, verify_password
from gallery.model import SYSTEM_TENANT_ID, Authority, ImageInfo, Page, PageQuery, Tenant, TenantProfile, User
from gallery.service import now_ms
from gallery.storage.base import Catalog

DEFAULT_PROFILE_NAME = "Default"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MIN_PASSWORD = 6


@dataclass(frozen=True)
class Limits:
    max_resource_size: int = 0
    max_resources_in_bytes: int = 0

    def __post_init__(self) -> None:
        if self.max_resource_size < 0 or self.max_resources_in_bytes < 0:
            raise errors.BadRequest("Limits must be 0 (unlimited) or a positive number of bytes")


class AccountService:
    def __init__(self, catalog: Catalog, tokens: Tokens, release_images: Callable[[list[ImageInfo]], None]) -> None:
        self.catalog = catalog
        self.tokens = tokens
        self._release_images = release_images

    # --- authentication -----------------------------------------------------------------------------------------
    def login(self, email: str, password: str) -> TokenPair:
        user = self.catalog.find_user(email.strip())
        if not verify_password(user.password_hash if user else None, password) or user is None:
            raise errors.AuthenticationFailed("Invalid username or password")
        return self.tokens.issue(user)

    def refresh(self, refresh_token: str) -> TokenPair:
        user = self.catalog.get_user(self.tokens.refresh_subject(refresh_token))
        if user is None:
            raise errors.AuthenticationFailed("User not found")
        return self.tokens.issue(user)

    def principal(self, token: str) -> Principal:
        return self.tokens.principal(token)

    def current_user(self, principal: Principal) -> User:
        user = self.catalog.get_user(principal.user_id)
        if user is None:
            raise errors.AuthenticationFailed("User not found")
        return user

    # --- tenant profiles ----------------------------------------------------------------------------------------
    def default_profile(self) -> TenantProfile:
        profile = self.catalog.default_profile()
        if profile is None:
            profile = TenantProfile(str(uuid.uuid4()), DEFAULT_PROFILE_NAME, is_default=True, created_time=now_ms())
            self.catalog.insert_profile(profile)
        return profile

    def create_profile(self, name: str, limits: Limits, is_default: bool = False) -> TenantProfile:
        profile = TenantProfile(
            id=str(uuid.uuid4()),
            name=_required(name, "Tenant profile name"),
            max_resource_size=limits.max_resource_size,
            max_resources_in_bytes=limits.max_resources_in_bytes,
            is_default=is_default,
            created_time=now_ms(),
        )
        self.catalog.insert_profile(profile)
        return profile

    def update_profile(self, profile_id: str, name: str, limits: Limits, is_default: bool) -> TenantProfile:
        old = self.get_profile(profile_id)
        profile = TenantProfile(
            old.id,
            _required(name, "Tenant profile name"),
            limits.max_resource_size,
            limits.max_resources_in_bytes,
            is_default,
            old.created_time,
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

    def create_tenant_with_limits(self, name: str, limits: Limits) -> Tenant:
        """A tenant with limits of its own gets a profile of its own, named after it."""
        if limits == Limits():
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
        self.get_tenant(tenant_id)
        self._release_images(self.catalog.delete_tenant(tenant_id))

    # --- users --------------------------------------------------------------------------------------------------
    def create_user(
        self,
        email: str,
        password: str,
        authority: Authority,
        tenant_id: str | None = None,
        first_name: str = "",
        last_name: str = "",
    ) -> User:
        email = email.strip()
        if not _EMAIL.match(email) or len(email) > 255:
            raise errors.BadRequest(f"Invalid email address '{email}'")
        if len(password) < MIN_PASSWORD:
            raise errors.BadRequest(f"Password must be at least {MIN_PASSWORD} characters long")
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
            password_hash=hash_password(password),
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
        if len(password) < MIN_PASSWORD:
            raise errors.BadRequest(f"Password must be at least {MIN_PASSWORD} characters long")
        user = self.get_user(user_id)
        updated = dataclasses.replace(user, password_hash=hash_password(password))
        self.catalog.update_user(updated)
        return updated

    def list_users(self, tenant_id: str | None, page: PageQuery) -> Page[User]:
        return self.catalog.list_users(tenant_id, page)

    def delete_user(self, user_id: str) -> None:
        if not self.catalog.delete_user(user_id):
            raise errors.NotFound()

    def has_users(self) -> bool:
        return self.catalog.has_users()


def _required(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise errors.BadRequest(f"{what} should be specified!")
    if len(value) > 255:
        raise errors.BadRequest(f"{what} is longer than 255 characters")
    return value
