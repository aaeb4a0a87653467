"""Which build is due for a device: the check-in rule.

fl33t does not document it. The rule here reads the field documentation literally (see
docs/fl33t.md, "The check-in rule", for the reasons):

1. A fleet with ``build_id`` set is pinned: that build is the target ("the build ID that devices
   in this fleet should install"), released or not, newer or older than what is installed. A
   pinned build that is not ``available`` yet (upload pending or failed) means nothing is due.
2. A fleet without ``build_id`` auto-updates: the target is the newest ``available`` build of the
   fleet's train, counting only ``released`` builds unless the fleet has ``unreleased`` set.
   "Newest" is the highest version (natural ordering, ``1.10 > 1.9``), then the latest upload,
   then the latest created.
3. The target is due unless the device reported it as installed. A check-in without a build id
   means "unknown", so the target is offered.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from ..core.rollout import release_key


def newest(builds: Iterable[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The newest of ``builds`` (given in creation order): version, then upload time, then order."""
    best: Optional[tuple[Any, dict[str, Any]]] = None
    for position, build in enumerate(builds):
        key = (release_key(str(build.get("version") or "")), build.get("upload_tstamp") or "",
               position)
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
