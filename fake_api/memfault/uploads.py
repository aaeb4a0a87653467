"""The "prepared upload" flow: ``/upload`` (or ``/upload_multipart``) hands out a token and a
signed storage URL on the fake itself; the client PUTs the bytes there (parts answer an ``ETag``,
then an S3-style ``CompleteMultipartUpload`` POST joins them); a commit call then names the token.

Storage URLs live under ``/api/v0/storage/`` so their errors are Memfault-shaped too, carry no
credentials and expire after an hour of the fake's clock (S3's presigned default; Memfault's
lifetime is not documented).
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any, Optional
from urllib.parse import quote

from ..core.blobs import UrlRefused, filename_problem, safe_name
from .errors import ForbiddenError, InvalidUsageError, NotFoundError
from .util import field_error

UPLOAD_KINDS = ("OTA_PAYLOAD", "SYMBOL_FILE", "SBOM", "COREDUMP", "ELF_COREDUMP", "MAR",
                "ANDROID_BUG_REPORT", "CUSTOM_DATA_RECORDING", "QCOMM_X")
UPLOAD_URL_TTL = 3600
#: The largest upload the fake prepares (a project's ``max_ota_upload_size`` is checked at
#: commit, as Memfault does): the fake keeps bytes in memory. Memfault's own ceiling is not
#: documented; this is a guess.
MAX_UPLOAD_SIZE = 1024 * 1024 * 1024
#: S3's ceiling on the parts of one multipart upload; larger uploads get larger parts.
MAX_PARTS = 10_000
STORAGE = "/api/v0/storage"
_PART_RE = re.compile(
    rb"<Part>\s*<PartNumber>\s*(\d+)\s*</PartNumber>\s*<ETag>\s*([^<]*?)\s*</ETag>\s*</Part>"
)


class UploadsMixin:
    """Mixed into :class:`~.models.MemfaultBackend`."""

    uploads: dict

    def prepare_upload(self, project: dict, body: dict, base_url: str, *,
                       multipart: bool = False, device_side: bool = False) -> dict:
        """Register an upload; returns the ``data`` object the CLI reads."""
        # A device may prepare an upload without a kind (memfaultd sends only ``size`` and
        # ``device``): the commit it makes then says what the file is.
        kind = body.get("kind", None if device_side else "OTA_PAYLOAD")
        if kind is not None and kind not in UPLOAD_KINDS:
            raise field_error("kind", f"Must be one of: {', '.join(UPLOAD_KINDS)}.")
        size = body.get("size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise field_error("size", "Not a valid integer.")
        if size is not None and size > MAX_UPLOAD_SIZE:
            raise InvalidUsageError(f"Uploaded file is too big, max is {MAX_UPLOAD_SIZE}")
        self.free_expired_uploads()
        token = self.ids.hex("memfault.upload_token", 40)
        record: dict[str, Any] = {
            "token": token, "project_id": project["id"], "kind": kind, "size": size,
            "multipart": multipart, "parts": {}, "blob_id": None, "committed": False,
            "created_date": self.now(), "expires": self.cloud.clock.time() + UPLOAD_URL_TTL,
        }
        self.uploads[token] = record
        if not multipart:
            return {"upload_url": self._storage_url(base_url, f"{STORAGE}/uploads/{token}", "PUT"),
                    "token": token}
        part_size = project.get("multipart_part_size") or 5 * 1024 * 1024
        count = min(MAX_PARTS, max(1, math.ceil((size or 0) / part_size)))
        record["part_count"] = count
        return {
            "part_urls": [self._storage_url(base_url, f"{STORAGE}/uploads/{token}/parts/{n}", "PUT")
                          for n in range(1, count + 1)],
            "complete_upload_url": self._storage_url(
                base_url, f"{STORAGE}/uploads/{token}/complete", "POST"),
            "token": token,
        }

    def free_expired_uploads(self, budget: int = 100) -> int:
        """Forget uploads whose URLs have expired, with any uncommitted bytes; returns how many.

        Lazy and bounded: called when an upload is prepared, it walks the table in creation
        order and stops at the first live upload (or after ``budget`` records), so the work per
        call is constant while expired uploads are still freed as fast as they are made. A
        committed upload's blob belongs to its artifact and is kept.
        """
        now, freed = self.cloud.clock.time(), 0
        for token in list(itertools.islice(self.uploads, budget)):
            record = self.uploads[token]
            expires = record.get("expires")
            if expires is None:  # a record from an older snapshot
                expires = self.parse_time(record["created_date"]).timestamp() + UPLOAD_URL_TTL
            if expires > now:
                break
            if not record["committed"]:
                for part in record["parts"].values():
                    self.cloud.blobs.delete(part["blob_id"])
                if record["blob_id"]:
                    self.cloud.blobs.delete(record["blob_id"])
            del self.uploads[token]
            freed += 1
        return freed

    def _storage_url(self, base_url: str, path: str, method: str, ttl: float = UPLOAD_URL_TTL
                     ) -> str:
        """A signed URL; the signature covers the unquoted path (what the server sees)."""
        return f"{base_url.rstrip('/')}{quote(path)}?{self.cloud.blobs.sign(path, ttl, method)}"

    def check_signature(self, path: str, args: Any, method: str) -> None:
        """403 for expired, forged or unsigned storage URLs, as S3 answers them."""
        try:
            self.cloud.blobs.verify(path, args, method)
        except UrlRefused as exc:
            raise ForbiddenError(f"Request refused: {exc.message} ({exc.reason})") from None

    def _upload(self, token: str) -> dict:
        record = self.uploads.get(token)
        if record is None:
            raise NotFoundError(f"Upload `{token}` not found")
        return record

    def store_upload(self, token: str, data: bytes, content_type: str) -> dict:
        """The single PUT of a prepared upload (a second PUT replaces the bytes, as on S3)."""
        record = self._upload(token)
        if record["multipart"]:
            raise InvalidUsageError("This upload is multipart; PUT its parts instead")
        if record["committed"]:
            raise InvalidUsageError("This upload was already committed")
        if record["blob_id"]:
            self.cloud.blobs.delete(record["blob_id"])
        meta = self.cloud.blobs.put(data, content_type=content_type or "application/octet-stream")
        record["blob_id"] = meta["id"]
        return meta

    def store_part(self, token: str, number: int, data: bytes) -> str:
        """One part of a multipart upload; returns its ETag (the quoted md5, like S3)."""
        record = self._upload(token)
        if not record["multipart"] or not 1 <= number <= record.get("part_count", 0):
            raise NotFoundError(f"Upload `{token}` has no part {number}")
        previous = record["parts"].get(str(number))
        held = sum(p.get("size", 0) for n, p in record["parts"].items() if n != str(number))
        if held + len(data) > MAX_UPLOAD_SIZE:
            raise InvalidUsageError(f"Uploaded file is too big, max is {MAX_UPLOAD_SIZE}")
        if previous:
            self.cloud.blobs.delete(previous["blob_id"])
        meta = self.cloud.blobs.put(data)
        etag = f'"{meta["md5"]}"'
        record["parts"][str(number)] = {"blob_id": meta["id"], "etag": etag, "size": len(data)}
        return etag

    def complete_multipart(self, token: str, xml: bytes) -> dict:
        """Join the parts named by ``CompleteMultipartUpload``, in order, checking their ETags."""
        record = self._upload(token)
        if not record["multipart"]:
            raise InvalidUsageError("This upload is not multipart")
        listed = _PART_RE.findall(xml or b"")
        if not listed:
            raise InvalidUsageError("The body must be a CompleteMultipartUpload XML document")
        numbers = [int(n) for n, _ in listed]
        if numbers != sorted(set(numbers)):
            raise InvalidUsageError("Parts must be listed once each, in ascending order")
        chunks = []
        for number, etag in listed:
            part = record["parts"].get(number.decode())
            if part is None or part["etag"].strip('"') != etag.decode().strip('"'):
                raise InvalidUsageError(f"Part {int(number)} was not uploaded or its ETag differs")
            chunks.append(self.cloud.blobs.data(part["blob_id"]))
        if sum(len(c or b"") for c in chunks) > MAX_UPLOAD_SIZE:
            raise InvalidUsageError(f"Uploaded file is too big, max is {MAX_UPLOAD_SIZE}")
        meta = self.cloud.blobs.put(b"".join(chunks))
        for part in record["parts"].values():
            self.cloud.blobs.delete(part["blob_id"])
        record["parts"] = {}
        record["blob_id"] = meta["id"]
        return meta

    def take_upload(self, project: dict, file: Any, kind: str) -> tuple[dict, dict]:
        """Resolve a commit's ``file`` object to its upload and blob metadata (400 if unusable)."""
        if not isinstance(file, dict):
            raise field_error("file", "Missing data for required field." if file is None
                              else "Not a valid mapping type.")
        token = file.get("token")
        if not isinstance(token, str) or not token:
            raise InvalidUsageError({"file": {"token": ["Missing data for required field."]}})
        record = self.uploads.get(token)
        if record is None or record["project_id"] != project["id"] or \
                record["kind"] not in (kind, None):
            raise InvalidUsageError({"file": {"token": ["Invalid upload token."]}})
        if not record["blob_id"]:
            raise InvalidUsageError({"file": {"token": ["Nothing was uploaded for this token."]}})
        meta = self.cloud.blobs.meta(record["blob_id"])
        md5 = file.get("md5")
        if md5 is not None and (not isinstance(md5, str) or md5.lower() != meta["md5"]):
            raise InvalidUsageError({"file": {"md5": [
                "MD5 checksum does not match the uploaded file."]}})
        name = file.get("name")
        if name is not None and not isinstance(name, str):
            raise InvalidUsageError({"file": {"name": ["Not a valid string."]}})
        problem = filename_problem(name) if name else None
        if problem:
            raise InvalidUsageError({"file": {"name": [f"The file name {problem}."]}})
        return record, meta

    def artifact_url(self, base_url: str, artifact: dict, ttl: float) -> str:
        """The signed download URL; the name is one percent-encoded segment whatever it holds."""
        prefix = f"{STORAGE}/artifacts/{artifact['id']}/"
        name = _url_name(artifact["filename"])
        query = self.cloud.blobs.sign(prefix + name, ttl, "GET")
        return f"{base_url.rstrip('/')}{quote(prefix)}{quote(name, safe='')}?{query}"

    def artifact_download(self, artifact_id: str, filename: str, path: str, args: Any
                          ) -> tuple[bytes, Optional[dict]]:
        """The bytes behind a signed artifact URL (403 when the URL expired)."""
        self.check_signature(path, args, "GET")
        artifact = self.artifacts.get(artifact_id)
        if artifact is None or _url_name(artifact["filename"]) != filename:
            raise NotFoundError("Artifact not found")
        return self.cloud.blobs.data(artifact["blob_id"]), artifact


def _url_name(filename: str) -> str:
    """The name as a download URL carries it: no control characters or lone surrogates, and
    never a dot segment (``..``) that clients would resolve away."""
    name = safe_name(filename)
    return "_" if name in ("", ".", "..") else name
