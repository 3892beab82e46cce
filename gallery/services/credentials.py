"""Passwords and tokens: the password policy, scrypt hashes, and HS256 JWTs with ThingsBoard's claims.

Every token carries its user's token generation (`gen`) and its session; every refresh token a one-time id (`jti`).
Whether a generation is still current, and which refresh token a session accepts next, is the session service's to
check (`gallery.services.sessions`): this module only signs and verifies.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from gallery.domain import errors
from gallery.domain.access import Principal
from gallery.domain.model import Authority, User

ISSUER = "image-gallery"
_ALGORITHM = "HS256"
_ACCESS = "ACCESS"
_REFRESH = "REFRESH_TOKEN"
_VERIFIED_TOKENS = 4096
# Marks a password hash made without the password policy (the demo logins, whose passwords are in the README), so
# they can be named as weak without knowing the password. Any change of password drops it.
WEAK_MARKER = "weak$"


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the e-mail is unknown, so a login takes the same time whether or not the user exists.
    Made on first use: a scrypt hash costs ~0.1 s, which commands that never log anyone in should not pay."""
    return generate_password_hash(secrets.token_hex(16))


def hash_password(password: str, weak: bool = False) -> str:
    return (WEAK_MARKER if weak else "") + generate_password_hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash.removeprefix(WEAK_MARKER), password)


def is_weak(password_hash: str) -> bool:
    return password_hash.startswith(WEAK_MARKER)


MIN_PASSWORD = 8
MAX_PASSWORD = 256  # a longer one only costs hashing time


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


@dataclass(frozen=True)
class TokenPair:
    token: str
    refresh_token: str
    session_id: str = ""
    refresh_jti: str = ""
    refresh_expires: int = 0

    def to_json(self) -> dict[str, str]:
        return {"token": self.token, "refreshToken": self.refresh_token}


@dataclass(frozen=True)
class RefreshClaims:
    user_id: str
    session_id: str
    jti: str
    generation: int


class Tokens:
    def __init__(self, secret: str, access_ttl: int, refresh_ttl: int) -> None:
        self._secret = secret
        self._access_ttl = access_ttl
        self._refresh_ttl = refresh_ttl
        # Verifying a JWT costs ~100 µs in PyJWT, more than the rest of a 304. The same token string (signature
        # included) always verifies the same way, so the result is memoised; expiry is still checked on every use.
        self._verified = functools.lru_cache(maxsize=_VERIFIED_TOKENS)(self._principal_and_expiry)

    def issue(self, user: User, session: str | None = None) -> TokenPair:
        """A new pair for `user`, in a new session or (refreshing) in `session`."""
        now = int(time.time())
        session = session or str(uuid.uuid4())
        jti = str(uuid.uuid4())
        access = {
            "sub": user.email,
            "userId": user.id,
            "scopes": [user.authority.value],
            "sessionId": session,
            "enabled": True,
            "isPublic": False,
            "tenantId": user.tenant_id,
            "customerId": user.customer_id,
            "gen": user.token_generation,
            "firstName": user.first_name or None,
            "lastName": user.last_name or None,
            "iss": ISSUER,
            "iat": now,
            "exp": now + self._access_ttl,
        }
        refresh = {
            "sub": user.email,
            "userId": user.id,
            "scopes": [_REFRESH],
            "sessionId": session,
            "gen": user.token_generation,
            "iss": ISSUER,
            "iat": now,
            "exp": now + self._refresh_ttl,
            "jti": jti,
        }
        return TokenPair(self._encode(access), self._encode(refresh), session, jti, now + self._refresh_ttl)

    def _encode(self, claims: dict[str, Any]) -> str:
        import jwt  # imported when first needed: with cryptography it costs ~0.1 s at start-up

        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def _decode(self, token: str) -> dict[str, Any]:
        import jwt

        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=ISSUER,
                # Tokens made before generations existed carry no `gen`: they are refused, and their users sign in.
                options={"require": ["exp", "iat", "sub", "scopes", "userId", "gen", "sessionId"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise errors.TokenExpired() from exc
        except jwt.PyJWTError as exc:
            raise errors.AuthenticationFailed() from exc
        return claims

    def principal(self, token: str) -> Principal:
        principal, expires = self._verified(token)
        if expires <= time.time():
            raise errors.TokenExpired()
        return principal

    def _principal_and_expiry(self, token: str) -> tuple[Principal, float]:
        claims = self._decode(token)
        scopes = claims["scopes"]
        if not isinstance(scopes, list) or len(scopes) != 1 or scopes[0] not in Authority.__members__:
            raise errors.AuthenticationFailed()
        principal = Principal(
            user_id=claims["userId"],
            email=claims["sub"],
            authority=Authority(scopes[0]),
            tenant_id=claims["tenantId"],
            customer_id=claims["customerId"],
            generation=int(claims["gen"]),
            session_id=str(claims["sessionId"]),
        )
        return principal, float(claims["exp"])

    def refresh_claims(self, refresh_token: str) -> RefreshClaims:
        """Who a refresh token speaks for, in which session, and its one-time id."""
        claims = self._decode(refresh_token)
        if claims["scopes"] != [_REFRESH] or not claims.get("jti"):
            raise errors.AuthenticationFailed("Invalid refresh token")
        return RefreshClaims(str(claims["userId"]), str(claims["sessionId"]), str(claims["jti"]), int(claims["gen"]))


def derive_key(secret: str, purpose: str) -> str:
    """A key of its own for each use of the one configured secret: a signature made for one purpose (an upload
    ticket) is never valid for another (a token)."""
    return hmac.new(secret.encode(), f"image-gallery:{purpose}".encode(), hashlib.sha256).hexdigest()


def load_or_create_secret(path: Path) -> str:
    """The local backend keeps its signing key beside its data, created once with owner-only permissions."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(secret)
    return secret
