"""Artifact bytes with their digests, and signed URLs that expire on the clock.

Dialects keep their own records (a build, an artifact) and point at a blob by id. The bytes
live in the store, so snapshots carry them. URLs are signed with an HMAC over the method, the
path and the expiry; the secret comes from the seed, so signed URLs are deterministic too.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from typing import Any, Mapping, Optional
from urllib.parse import urlencode

from .clock import Clock
from .ids import Ids
from .store import Store


class UrlRefused(Exception):
    """A signed URL that is expired, forged or incomplete. ``reason`` is one of those words."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def filename_problem(name: str) -> Optional[str]:
    """Why ``name`` cannot be a file name (control characters, lone surrogates), or None.

    Dialects refuse such names at input, in their own error format: a name is echoed in
    ``Content-Disposition`` headers and download URLs, where neither fits.
    """
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "must not contain control characters"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no lone surrogates)"
    return None


def safe_name(name: str) -> str:
    """``name`` with control characters and lone surrogates replaced by ``_``: what a download
    URL may carry for any stored name (unchanged for every name that passes input checks)."""
    return "".join("_" if unicodedata.category(c) in ("Cc", "Cs") else c for c in name)


def digests(data: bytes) -> dict[str, Any]:
    return {
        "size": len(data),
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


class BlobStore:
    def __init__(self, store: Store, clock: Clock, ids: Ids) -> None:
        self._blobs = store.table("_core.blobs")
        self._clock = clock
        self._ids = ids

    @property
    def _secret(self) -> bytes:
        return hashlib.sha256(f"fleetsim-signing:{self._ids.seed}".encode()).digest()

    def put(
        self,
        data: bytes,
        *,
        filename: Optional[str] = None,
        content_type: str = "application/octet-stream",
    ) -> dict[str, Any]:
        """Store ``data``; returns its metadata (``id``, ``size``, ``md5``, ``sha1``, ``sha256``...)."""
        blob_id = self._ids.hex("_core.blob", 24)
        record = {"id": blob_id, "filename": filename, "content_type": content_type}
        record.update(digests(data))
        self._blobs[blob_id] = dict(record, data=bytes(data))
        return record

    def meta(self, blob_id: str) -> Optional[dict[str, Any]]:
        record = self._blobs.get(blob_id)
        if record is None:
            return None
        return {k: v for k, v in record.items() if k != "data"}

    def data(self, blob_id: str) -> Optional[bytes]:
        record = self._blobs.get(blob_id)
        return None if record is None else record["data"]

    def delete(self, blob_id: str) -> None:
        self._blobs.pop(blob_id, None)

    def __len__(self) -> int:
        return len(self._blobs)

    # -- signed URLs -------------------------------------------------------------------------

    def _signature(self, method: str, path: str, expires: int) -> str:
        msg = f"{method.upper()}\n{path}\n{expires}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def sign(self, path: str, expires_in: float, method: str = "GET") -> str:
        """The query string (``expires=...&signature=...``) that makes ``path`` valid for a while."""
        expires = int(self._clock.time() + expires_in)
        return urlencode({"expires": expires, "signature": self._signature(method, path, expires)})

    def signed_url(self, base_url: str, path: str, expires_in: float, method: str = "GET") -> str:
        return f"{base_url.rstrip('/')}{path}?{self.sign(path, expires_in, method)}"

    def verify(self, path: str, args: Mapping[str, str], method: str = "GET") -> None:
        """Raise :class:`UrlRefused` unless ``args`` carry a valid, unexpired signature for ``path``."""
        expires_text, signature = args.get("expires"), args.get("signature")
        if not expires_text or not signature:
            raise UrlRefused("unsigned", "this URL must carry 'expires' and 'signature'")
        try:
            expires = int(expires_text)
        except ValueError:
            raise UrlRefused("forged", "the URL's 'expires' is not a number") from None
        expected = self._signature(method, path, expires)
        if not hmac.compare_digest(expected, str(signature)):
            raise UrlRefused("forged", "the URL's signature does not match")
        if self._clock.time() > expires:
            raise UrlRefused("expired", "the signed URL has expired")
