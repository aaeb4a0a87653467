"""Records -> the exact objects the official client accepts.

``fl33t.models.BaseModel.__init__`` raises ``AttributeError`` on any key outside the model's
``_defaults``, so every view emits exactly those keys, in that order, and nothing else.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

FIELDS: dict[str, tuple[str, ...]] = {
    "session": ("name", "admin", "device", "provisioning", "readonly", "session_token", "type",
                "upload"),
    "train": ("train_id", "name", "upload_tstamp"),
    "fleet": ("build_id", "fleet_id", "name", "size", "train_id", "unreleased"),
    "device": ("build_id", "checkin_tstamp", "device_id", "fleet_id", "name", "session_token"),
    "build": ("build_id", "download_url", "filename", "md5sum", "released", "size", "status",
              "train_id", "upload_tstamp", "upload_url", "version"),
}


def _cut(model: str, record: dict[str, Any], **override: Any) -> dict[str, Any]:
    values = dict(record, **override)
    return {name: values.get(name) for name in FIELDS[model]}


def session(record: dict[str, Any]) -> dict[str, Any]:
    return _cut("session", record)


def train(record: dict[str, Any], builds: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """``upload_tstamp`` is "the most recent upload_tstamp from all builds in this train"."""
    stamps = [b["upload_tstamp"] for b in builds if b.get("upload_tstamp")]
    return _cut("train", record, upload_tstamp=max(stamps) if stamps else None)


def fleet(record: dict[str, Any]) -> dict[str, Any]:
    return _cut("fleet", record)


def device(record: dict[str, Any], show_token: bool = True) -> dict[str, Any]:
    """Device tokens are credentials: only shown to sessions that may provision devices."""
    view = _cut("device", record)
    if not show_token:
        view["session_token"] = None
    return view


def build(record: dict[str, Any], download_url: Optional[str],
          upload_url: Optional[str]) -> dict[str, Any]:
    return _cut("build", record, download_url=download_url, upload_url=upload_url)
