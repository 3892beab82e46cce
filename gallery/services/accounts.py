"""Accounts: sign-in and tokens, tenants, tenant profiles and users, with the system administrator's rules.

Tokens stay honest after the fact: each request checks that its token's generation is still its user's (a cache of
`CHECK_SECONDS` at most), and a password change or reset, disabling, deletion or sign-out moves the generation on.
A session's refresh token is usable once; a spent one coming back means a copy is in other hands, so every session
of that user ends. Failed sign-ins are throttled per account and per client address, with growing delays.
"""

from __future__ import annotations

import ipaddress
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from gallery.domain import errors
from gallery.domain.model import (
    SYSTEM_TENANT_ID,
    Authority,
    ImageInfo,
    Page,
    PageQuery,
    Tenant,
    TenantProfile,
    User,
    now_ms,
)
from gallery.services.auth import Principal, TokenPair, Tokens, hash_password, is_weak, verify_password
from gallery.storage.protocols import AccountCatalog, AuthStore

DEFAULT_PROFILE_NAME = "Default"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256  # a longer one only costs hashing time
CHECK_SECONDS = 2.0  # how stale a process's view of a user's generation may be
_KNOWN_USERS = 10_000
SESSION_ENDED = "Your session has ended; sign in again"
# The service's clocks, by name, so that a test can move them without moving every clock in the process.
wall_clock: Callable[[], float] = time.time
monotonic_clock: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class Throttle:
    """Failed sign-ins under one kind of key: `free` of them cost nothing, then the next attempt waits 1 s after the
    last failure, and each further failure doubles the wait, up to `longest`; a failure older than `forget_after`
    starts the count again."""

    free: int
    longest: int = 900
    forget_after: int = 3600

    def wait(self, failures: int) -> float:
        """Seconds the next attempt waits after the latest of `failures` failures."""
        return 0.0 if failures < self.free else float(min(2 ** (failures - self.free), self.longest))


# An account is one person guessing slowly; an address may be an office behind one NAT.
ACCOUNT_THROTTLE = Throttle(free=5)
ADDRESS_THROTTLE = Throttle(free=20)
# Hashes checked at once by one process: each costs ~0.1 s of a core, and sign-ins need no more to be fast.
CONCURRENT_HASHES = 4
HASH_QUEUE_SECONDS = 2.0


@dataclass(frozen=True)
class Limits:
    max_resource_size: int = 0
    max_resources_in_bytes: int = 0

    def __post_init__(self) -> None:
        if self.max_resource_size < 0 or self.max_resources_in_bytes < 0:
            raise errors.BadRequest("Limits must be 0 (unlimited) or a positive number of bytes")


def _address_key(address: str) -> str:
    """An IPv4 address as it is; an IPv6 one by its /64, which one client holds whole and can walk through."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def check_password_policy(password: str, email: str = "") -> None:
    """A password a person chose for themselves: long enough, not their e-mail, not one character repeated."""
    if len(password) < MIN_PASSWORD:
        raise errors.BadRequest(f"Password must be at least {MIN_PASSWORD} characters long")
    if len(password) > MAX_PASSWORD:
        raise errors.BadRequest(f"Password must be at most {MAX_PASSWORD} characters long")
    if email and password.casefold() in {email.casefold(), email.split("@")[0].casefold()}:
        raise errors.BadRequest("Password must not be the e-mail address")
    if len(set(password)) == 1:
        raise errors.BadRequest("Password must not be one character repeated")


class AccountService:
    def __init__(
        self,
        catalog: AccountCatalog,
        auth: AuthStore,
        tokens: Tokens,
        release_images: Callable[[list[ImageInfo]], None],
    ) -> None:
        self.catalog = catalog
        self.auth = auth
        self.tokens = tokens
        self._release_images = release_images
        self._known: dict[str, tuple[float, tuple[int, bool] | None]] = {}
        self._hashing = threading.BoundedSemaphore(CONCURRENT_HASHES)

    # --- authentication -----------------------------------------------------------------------------------------
    def login(self, email: str, password: str, address: str | None = None) -> TokenPair:
        email = email.strip()
        user = self.catalog.find_user(email)
        if not self._password_matches(email, user, password, address) or user is None:
            raise errors.AuthenticationFailed("Invalid username or password")
        if not user.enabled:
            raise errors.AuthenticationFailed("User account is not active")
        return self._start(user)

    def _password_matches(self, email: str, user: User | None, password: str, address: str | None) -> bool:
        """The one way a password is checked (sign-in, and the current one on a change), throttled per account
        and per address. Each attempt is counted as a failure before any hashing, so attempts made at once each
        see their own count: however many arrive together, only the free ones reach scrypt. An attempt sooner than
        its count allows is a 429 without hashing; one that succeeds is taken back."""
        keys = [(f"account:{email.casefold()}", ACCOUNT_THROTTLE)]
        if address:
            keys.append((f"address:{_address_key(address)}", ADDRESS_THROTTLE))
        now = wall_clock()
        reserved: list[str] = []
        for key, throttle in keys:
            counted = self.auth.add_failure(key, now, throttle.forget_after)
            reserved.append(key)
            wait = counted.previous + throttle.wait(counted.count - 1) - now if counted.previous else 0.0
            if wait > 0:
                self._take_back(reserved)  # refused unchecked: only checked passwords make the waits grow
                raise errors.TooManyRequests(
                    f"Too many failed sign-ins; try again in {math.ceil(wait)} s", retry_after=math.ceil(wait)
                )
        if not self._hashing.acquire(timeout=HASH_QUEUE_SECONDS):
            self._take_back(reserved)
            raise errors.TooManyRequests("Too many sign-ins at once; try again in a moment", retry_after=1)
        try:
            matched = verify_password(user.password_hash if user else None, password)
        finally:
            self._hashing.release()
        if matched:
            self.auth.clear_failures(keys[0][0])
            self._take_back(reserved[1:])  # an office behind one address signs in all day
        return matched

    def _take_back(self, keys: list[str]) -> None:
        for key in keys:
            self.auth.forgive_failure(key)

    def _start(self, user: User) -> TokenPair:
        pair = self.tokens.issue(user)
        self.auth.start_session(pair.session_id, user.id, pair.refresh_jti, pair.refresh_expires)
        return pair

    def refresh(self, refresh_token: str) -> TokenPair:
        claims = self.tokens.refresh_claims(refresh_token)
        user = self.catalog.get_user(claims.user_id)
        if user is None or not user.enabled or user.token_generation != claims.generation:
            raise errors.AuthenticationFailed(SESSION_ENDED)
        pair = self.tokens.issue(user, claims.session_id)
        if not self.auth.rotate_session(claims.session_id, claims.jti, pair.refresh_jti, pair.refresh_expires):
            # Spent before, so someone else holds a copy: whoever it is, every session of this user ends.
            self.auth.end_session(claims.session_id)
            self.revoke_tokens(user.id)
            raise errors.AuthenticationFailed("This refresh token was used before; every session of this user ended")
        return pair

    def principal(self, token: str) -> Principal:
        principal = self.tokens.principal(token)
        state = self._state(principal.user_id)
        if state is None or not state[1] or state[0] != principal.generation:
            raise errors.AuthenticationFailed(SESSION_ENDED)
        return principal

    def _state(self, user_id: str) -> tuple[int, bool] | None:
        """(token generation, enabled) of a user, or None if there is none; read at most every CHECK_SECONDS."""
        now = monotonic_clock()
        known = self._known.get(user_id)
        if known is not None and now - known[0] < CHECK_SECONDS:
            return known[1]
        user = self.catalog.get_user(user_id)
        if len(self._known) >= _KNOWN_USERS:
            self._known.clear()
        state = None if user is None else (user.token_generation, user.enabled)
        self._known[user_id] = (now, state)
        return state

    def _changed(self, user: User | None) -> User:
        """After a change of a user's tokens: this process knows at once (others within CHECK_SECONDS)."""
        if user is None:
            raise errors.NotFound()
        self._known.pop(user.id, None)
        return user

    def revoke_tokens(self, user_id: str) -> User:
        """Every token of the user stops working: access tokens on their next request, refresh tokens too."""
        return self._changed(self.catalog.change_user(user_id))

    def logout(self, principal: Principal) -> None:
        self.auth.end_session(principal.session_id)
        self.revoke_tokens(principal.user_id)

    def change_password(self, principal: Principal, current: str, new: str, address: str | None = None) -> TokenPair:
        """ThingsBoard's self-service change: the caller's other sessions end; this one goes on with a new pair."""
        user = self.current_user(principal)
        if not self._password_matches(user.email, user, current, address):
            raise errors.BadRequest("Current password doesn't match!")
        check_password_policy(new, user.email)
        if verify_password(user.password_hash, new):
            raise errors.BadRequest("New password should be different from the current one")
        self.auth.end_session(principal.session_id)
        return self._start(self._changed(self.catalog.change_user(user.id, password_hash=hash_password(new))))

    def weak_logins(self, emails: list[str]) -> list[str]:
        """Which of these accounts still have a password made without the policy (the demo logins)."""
        found = (self.catalog.find_user(email) for email in emails)
        return [user.email for user in found if user is not None and is_weak(user.password_hash)]

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
        """The tenant, its images, dashboards and users go; its users' tokens stop working."""
        self.get_tenant(tenant_id)
        self._release_images(self.catalog.delete_tenant(tenant_id))
        self._known.clear()

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
        return self._changed(self.catalog.change_user(user_id, password_hash=hash_password(password)))

    def set_enabled(self, actor: Principal, user_id: str, enabled: bool) -> User:
        """ThingsBoard's `userCredentialsEnabled`: a disabled user cannot sign in, and their tokens stop working.
        A tenant administrator manages their own tenant's users; nobody disables themselves."""
        target = self.get_user(user_id)
        if actor.authority is Authority.TENANT_ADMIN and (
            target.tenant_id != actor.tenant_id or target.authority is Authority.SYS_ADMIN
        ):
            raise errors.NotFound()  # beyond the tenant's wall: not even its existence is confirmed
        if target.id == actor.user_id:
            raise errors.BadRequest("You cannot disable yourself")
        return self._changed(self.catalog.change_user(user_id, enabled=enabled))

    def list_users(self, tenant_id: str | None, page: PageQuery) -> Page[User]:
        return self.catalog.list_users(tenant_id, page)

    def delete_user(self, user_id: str) -> None:
        if not self.catalog.delete_user(user_id):
            raise errors.NotFound()
        self._known.pop(user_id, None)

    def has_users(self) -> bool:
        return self.catalog.has_users()


def _required(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise errors.BadRequest(f"{what} should be specified!")
    if len(value) > 255:
        raise errors.BadRequest(f"{what} is longer than 255 characters")
    return value
