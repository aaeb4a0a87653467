"""Who is calling: JWTs, API keys, actors, 2FA (TOTP). No Flask here.

balena authenticates every request with ``Authorization: Bearer <token>`` where the token is
either a user JWT (from ``/login_``) or an API key (user, named user, provisioning or device
key). Each user, application and device owns an *actor* row; an API key belongs to an actor,
and that actor's owner decides what the key may see (see :mod:`.permissions`).

JWTs are HS256, signed with a per-cloud secret, built with the standard library. They always
carry ``iat`` (the SDK raises ``KeyError`` without it) and ``exp`` (checked here, never by the
SDK), plus open-balena's claims (``id``, ``jwt_secret``, ``authTime``) and ``twoFactorRequired``
when the user has 2FA enabled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

from ..core.clock import parse_when
from .errors import BalenaError, bad_request, unauthorized

#: open-balena's default JWT lifetime (JSON_WEB_TOKEN_EXPIRY_MINUTES = 10080).
JWT_LIFETIME = timedelta(days=7)
USER, APPLICATION, DEVICE = "user", "application", "device"


@dataclass(frozen=True)
class Actor:
    """The caller of a request. ``id`` is the user/application/device id, ``actor_id`` the actor
    row. ``via`` is ``"jwt"`` or ``"api_key"``; ``application`` is a device's fleet."""

    kind: str
    id: int
    actor_id: int
    via: str = "jwt"
    username: Optional[str] = None
    email: Optional[str] = None
    slug: Optional[str] = None
    uuid: Optional[str] = None
    application: Optional[int] = None
    key_id: Optional[int] = None
    two_factor_pending: bool = False

    @property
    def is_user(self) -> bool:
        return self.kind == USER


# -- JWT ----------------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_jwt(claims: dict[str, Any], secret: bytes) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def decode_jwt(token: str, secret: bytes) -> Optional[dict[str, Any]]:
    """The claims of a JWT signed with ``secret``, or None (malformed, forged, other alg)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_unb64(parts[0]))
        claims = json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(claims, dict):
        return None
    expected = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        return None
    return claims


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


# -- passwords and TOTP -------------------------------------------------------------------------

def hash_password(password: str, salt: str) -> str:
    """Salted SHA-256: good enough for a fake, and fast (no work factor on purpose)."""
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def totp_secret_from_hex(hex_text: str) -> str:
    """A 32-character base32 secret (what ``get_setup_key`` returns) from seeded hex."""
    return "".join(_B32[int(hex_text[i:i + 2], 16) % 32] for i in range(0, 64, 2))


def totp(secret: str, at: float, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 code of ``secret`` (base32) at Unix time ``at``."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    counter = struct.pack(">Q", int(at // step))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def totp_ok(secret: str, code: Any, at: float) -> bool:
    """True for the code of this step or the one before/after (clock drift, as authenticators)."""
    code = str(code).strip()
    return any(hmac.compare_digest(totp(secret, at + drift), code) for drift in (-30, 0, 30))


# -- dates --------------------------------------------------------------------------------------

def parse_expiry(value: Any) -> Optional[str]:
    """An API key's ``expiryDate`` as ISO text, or None; 400 for something that is not a date."""
    if value is None or value == "":
        return None
    try:
        moment = parse_when(value) if not isinstance(value, (int, float)) else \
            parse_when(value / 1000 if value > 10**11 else value)
    except (TypeError, ValueError):
        raise bad_request(f"Invalid expiry date: {value!r}") from None
    return moment.isoformat().replace("+00:00", "Z")


def expired(expiry: Optional[str], now: datetime) -> bool:
    if not expiry:
        return False
    try:
        return parse_when(expiry) <= now
    except (TypeError, ValueError):
        return False


# -- reading the request ------------------------------------------------------------------------

def bearer(headers: Any, args: Any = None) -> Optional[str]:
    """The token of ``Authorization: Bearer <t>`` (or ``?apikey=`` as balena also accepts)."""
    header = headers.get("Authorization") if headers is not None else None
    if header:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized()
        return token.strip()
    if args is not None and args.get("apikey"):
        return str(args.get("apikey"))
    return None


def actor_from_request(backend: Any, request: Any, *, allow_two_factor: bool = False) -> Optional[Actor]:
    """The :class:`Actor` behind ``request`` (duck-typed: ``headers`` and ``args``), None when
    no token was sent, 401 for a token that is malformed, forged, expired or revoked."""
    token = bearer(request.headers, getattr(request, "args", None))
    if token is None:
        return None
    actor = backend.authenticate(token)
    if actor.two_factor_pending and not allow_two_factor:
        raise BalenaError(401, "Unauthorized: two factor authentication is required")
    return actor
