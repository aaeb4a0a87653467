"""Body formats the device side sends that are not JSON (no Flask here).

memfault-cli posts several chunks as ``multipart/mixed`` whose parts still carry form-data
``Content-Disposition`` headers (requests built them as a form, then the CLI renamed the type);
the Android SDK sends plain ``multipart/mixed``. Both parse the same way.
"""

from __future__ import annotations

import re
from typing import Optional

from .errors import InvalidUsageError

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


def boundary_of(content_type: str) -> Optional[str]:
    match = _BOUNDARY.search(content_type or "")
    return match.group(1) if match else None


def split_multipart(body: bytes, boundary: str) -> list[bytes]:
    """The payload of every part, in order; honours a part's ``Content-Length`` when present."""
    delimiter = b"--" + boundary.encode("latin-1")
    if delimiter not in body:
        raise InvalidUsageError("Malformed multipart body: boundary not found")
    pieces = body.split(delimiter)[1:]
    parts: list[bytes] = []
    closed = False
    for piece in pieces:
        if piece.startswith(b"--"):
            closed = True
            break
        piece = piece[2:] if piece.startswith(b"\r\n") else piece
        head, sep, payload = piece.partition(b"\r\n\r\n")
        if not sep:
            raise InvalidUsageError("Malformed multipart body: a part has no header block")
        length = None
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    raise InvalidUsageError("Malformed multipart body: bad Content-Length") from None
        if length is not None:
            if length > len(payload):
                raise InvalidUsageError("Malformed multipart body: a part is shorter than its "
                                        "Content-Length")
            payload = payload[:length]
        elif payload.endswith(b"\r\n"):
            payload = payload[:-2]
        parts.append(payload)
    if not closed:
        raise InvalidUsageError("Malformed multipart body: no closing boundary")
    return parts
