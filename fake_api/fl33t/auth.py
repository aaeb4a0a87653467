"""Session tokens and the privilege matrix: who may call what.

fl33t sessions carry five privilege flags (admin, device, provisioning, readonly, upload). The
vendor documents only hints ("most non-informational interactions require admin", "the session
must include the upload capability", "... the provisioning capability"); the matrix below is the
most plausible reading of those hints and is documented in docs/fl33t.md. A session holding
several flags gets the union of what each allows. 401 means "no valid token for this team",
403 means "valid token, not enough privilege".
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from ..core.errors import Forbidden, Unauthorized

PRIVILEGES = ("admin", "device", "provisioning", "readonly", "upload")
SESSION_TYPES = ("account", "api", "device")

_READERS = frozenset({"admin", "readonly", "upload", "provisioning"})

#: action -> the privileges that allow it. Keep this table and docs/fl33t.md in step.
MATRIX: dict[str, frozenset[str]] = {
    "session.read": frozenset({"admin"}),  # any token may still read its own session
    "session.write": frozenset({"admin"}),
    "train.read": _READERS,
    "train.create": frozenset({"admin", "upload"}),
    "train.write": frozenset({"admin"}),
    "build.read": _READERS,
    "build.create": frozenset({"admin", "upload"}),
    "build.write": frozenset({"admin"}),
    "fleet.read": _READERS,
    "fleet.write": frozenset({"admin"}),
    "device.read": _READERS,
    "device.create": frozenset({"admin", "provisioning"}),
    "device.write": frozenset({"admin"}),
    "device.checkin": frozenset({"admin", "device"}),
}

#: Who sees devices' session tokens in device objects (others get ``null``): a readonly token
#: that could read device tokens could check in as any device.
TOKEN_READERS = frozenset({"admin", "provisioning"})


def privileges(session: Mapping[str, Any]) -> set[str]:
    """The privilege flags set on a session record."""
    return {p for p in PRIVILEGES if session.get(p)}


def allowed(session: Mapping[str, Any], action: str) -> bool:
    """True when the session may perform ``action`` (see :data:`MATRIX`)."""
    return bool(privileges(session) & MATRIX[action])


def require(session: Mapping[str, Any], action: str, *, device_id: Optional[str] = None) -> None:
    """Raise 403 unless ``session`` may perform ``action``.

    ``device.checkin`` is special: a device-privileged session may only check in as the device it
    was issued to (``device_id``); admin may check in on behalf of any device.
    """
    if action not in MATRIX:
        raise KeyError(f"unknown fl33t action {action!r}")
    privs = privileges(session)
    if action == "device.checkin" and "admin" not in privs:
        if "device" in privs and session.get("device_id") is not None:
            if session["device_id"] == device_id:
                return
            raise Forbidden("a device session may only check in as its own device")
        raise Forbidden("checking in requires a device session (or admin)")
    if not privs & MATRIX[action]:
        need = " or ".join(sorted(MATRIX[action]))
        have = ", ".join(sorted(privs)) or "no privilege"
        raise Forbidden(f"this session has {have}; {action} requires {need}")


def bearer_token(authorization: Optional[str]) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or a 401."""
    if not authorization:
        raise Unauthorized("missing Authorization header (expected 'Bearer <session_token>')")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <session_token>'")
    return token.strip()


def authenticate(
    sessions: Mapping[str, dict], team_id: str, authorization: Optional[str]
) -> dict[str, Any]:
    """The session record behind the request's bearer token, scoped to ``team_id``.

    A token of another team is as unknown here as a made-up one (401): teams do not see each
    other.
    """
    token = bearer_token(authorization)
    session = sessions.get(token)
    if session is None or session.get("team_id") != team_id:
        raise Unauthorized(f"invalid session token for team {team_id}")
    return session
