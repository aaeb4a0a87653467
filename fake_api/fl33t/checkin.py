"""Which build is due for a device: the check-in rule.

fl33t does not document it. The rule here reads the field documentation literally; the open
questions are decided from the evidence in docs/fl33t.md, "The check-in rule":

1. A fleet with ``build_id`` set is pinned: that build is the target ("the build ID that devices
   in this fleet should install"), released or not, newer or older than what is installed. A
   pinned build that is not ``available`` yet (upload pending or failed) means nothing is due.
2. A fleet without ``build_id`` auto-updates: the target is the newest ``available`` build of the
   fleet's train, counting only ``released`` builds unless the fleet has ``unreleased`` set.
   "Newest" is the highest version (natural ordering, ``1.10 > 1.9``), then the latest upload,
   then the latest created.
3. The target is due unless the device reported it as installed. A check-in without a build id
   means "unknown", so the target is offered (the server's record of the last report is not
   used: the client's ``Device.checkin()`` sends that record itself when it wants it used).
4. An auto-updating fleet only moves forward: a device that reports a build of the fleet's
   train that is newer than the target (say an unreleased build, in a released-only fleet) is
   not offered the older target. Only a pin rolls devices back.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from ..core.rollout import release_key


def _age(build: dict[str, Any]) -> tuple[Any, str]:
    return release_key(str(build.get("version") or "")), build.get("upload_tstamp") or ""


def newest(builds: Iterable[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The newest of ``builds`` (given in creation order): version, then upload time, then order."""
    best: Optional[tuple[Any, dict[str, Any]]] = None
    for position, build in enumerate(builds):
        key = (*_age(build), position)
        if best is None or key > best[0]:
            best = (key, build)
    return None if best is None else best[1]


def target_build(
    fleet: dict[str, Any], train_builds: list[dict[str, Any]], pinned: Optional[dict[str, Any]]
) -> Optional[dict[str, Any]]:
    """The build the fleet's devices should run now, or None.

    ``train_builds`` are the builds of the fleet's train in creation order; ``pinned`` is the
    record named by ``fleet["build_id"]`` (None when unset or gone).
    """
    if fleet.get("build_id"):
        if pinned is not None and pinned.get("status") == "available":
            return pinned
        return None
    eligible = [
        b for b in train_builds
        if b.get("status") == "available" and (fleet.get("unreleased") or b.get("released"))
    ]
    return newest(eligible)


def is_due(target: Optional[dict[str, Any]], installed_build_id: Optional[str]) -> bool:
    """True when ``target`` should be offered to a device reporting ``installed_build_id``."""
    return target is not None and target["build_id"] != installed_build_id


def moves_forward(target: dict[str, Any], installed: Optional[dict[str, Any]]) -> bool:
    """Rule 4: may an auto-updating fleet offer ``target`` to a device running ``installed``
    (the record of the build it reported, or None when unknown or of another train)?"""
    if installed is None or installed.get("train_id") != target.get("train_id"):
        return True
    return _age(target) > _age(installed)
