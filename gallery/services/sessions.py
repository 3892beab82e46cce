"""Signing in and staying signed in: sign-in with throttling, sessions with one-time refresh tokens, and the check
every request's token goes through.

Tokens stay honest after the fact: each request checks that its token's generation is still its user's (a cache of
`CHECK_SECONDS` at most), and a password change or reset, disabling, deletion or sign-out moves the generation on.
A session's refresh token is usable once; a spent one coming back means a copy is in other hands, so every session
of that user ends. Failed sign-ins are throttled per account and per client address, with growing delays.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from gallery.domain import errors
from gallery.domain.access import Principal
from gallery.domain.model import User
from gallery.services.credentials import (
    TokenPair,
    Tokens,
    check_password_policy,
    hash_password,
    is_weak,
    verify_password,
)
from gallery.storage.protocols import AccountCatalog, AuthStore

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


def _address_key(address: str) -> str:
    """An IPv4 address as it is; an IPv6 one by its /64, which one client holds whole and can walk through."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class SessionService:
    def __init__(self, catalog: AccountCatalog, auth: AuthStore, tokens: Tokens) -> None:
        self.catalog = catalog
        self.auth = auth
        self.tokens = tokens
        self._known: dict[str, tuple[float, tuple[int, bool] | None]] = {}
        self._hashing = threading.BoundedSemaphore(CONCURRENT_HASHES)

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

    def changed(self, user: User | None) -> User:
        """After a change of a user's tokens: this process knows at once (others within CHECK_SECONDS)."""
        if user is None:
            raise errors.NotFound()
        self._known.pop(user.id, None)
        return user

    def forget(self, user_id: str | None = None) -> None:
        """A user (or, None, every user) was removed: what this process remembers of them goes too."""
        if user_id is None:
            self._known.clear()
        else:
            self._known.pop(user_id, None)

    def revoke_tokens(self, user_id: str) -> User:
        """Every token of the user stops working: access tokens on their next request, refresh tokens too."""
        return self.changed(self.catalog.change_user(user_id))

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
        return self._start(self.changed(self.catalog.change_user(user.id, password_hash=hash_password(new))))

    def weak_logins(self, emails: list[str]) -> list[str]:
        """Which of these accounts still have a password made without the policy (the demo logins)."""
        found = (self.catalog.find_user(email) for email in emails)
        return [user.email for user in found if user is not None and is_weak(user.password_hash)]

    def current_user(self, principal: Principal) -> User:
        user = self.catalog.get_user(principal.user_id)
        if user is None:
            raise errors.AuthenticationFailed("User not found")
        return user
