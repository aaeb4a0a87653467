"""Deployments ("release activations"): a release made available to one cohort.

* ``normal``: every device of the cohort; status ``done``.
* ``staged_rollout`` with ``rollout_percent``: only the *staged* devices; status ``in_progress``
  (``done`` once the percentage reaches 100).
* ``DELETE`` deactivates: status ``cancelled``; the record stays, so history lists it.

Staged membership follows Memfault's "a random subset of its devices (amounting to the selected
rollout percentage) will be marked as staged": at activation the cohort's devices are ranked by a
seeded hash (``core.rollout.bucket`` of the serial, salted with the seed, cohort and release) and
exactly the rounded share (half up) of them is staged. Membership is a flag per device in the
deployment (``staged: {serial: bool}``), so an OTA check costs one lookup. It is sticky: raising
the percentage (PATCH, or a new POST of the same release to the same cohort) stages the next
devices of the ranking, never unstages one; lowering it is refused. A device that joins the
cohort later (or was not in it at activation) is decided once, at its first OTA check: staged
with a seeded chance that keeps the staged count within one device of the percentage of every
device the rollout has decided.

Deploying a release to a cohort where it is already active replaces the older deployment (which
becomes ``cancelled``, its staged devices carried over), so there is at most one active
deployment per release and cohort, as ``memfault deploy-release --deactivate`` expects.
"""

from __future__ import annotations

from typing import Any, Optional

from ..core.rollout import bucket
from .errors import InvalidUsageError, NotFoundError
from .util import (
    Query,
    field_error,
    optional_mapping,
    paginate,
    query_time,
    reject_unknown,
    sort_records,
    values,
)

DEPLOYMENT_TYPES = ("normal", "staged_rollout")
ACTIVE = ("in_progress", "done")
INACTIVE = "cancelled"


class DeploymentsMixin:
    """Mixed into :class:`~.models.MemfaultBackend`."""

    deployments: dict
    devices: dict
    indexes: Any

    def rollout_salt(self, deployment: dict) -> str:
        return f"memfault:{self.ids.seed}:{deployment['cohort_id']}:{deployment['release_id']}"

    def is_staged(self, deployment: dict, serial: str) -> bool:
        """Whether the device receives this deployment (always, for ``normal``). O(1)."""
        if deployment["type"] == "normal":
            return True
        staged = deployment.setdefault("staged", {})
        decided = staged.get(serial)
        if decided is None:
            decided = self._decide_late(deployment, serial)
        return decided

    def _decide_late(self, deployment: dict, serial: str) -> bool:
        """A device the rollout has not decided yet: staged when a seeded draw falls under what
        keeps the staged count within one device of the percentage of all decided devices."""
        staged = deployment["staged"]
        count = deployment.get("staged_count", 0)
        due = deployment["rollout_percent"] * (len(staged) + 1) / 100 - count
        chosen = bucket(serial, self.rollout_salt(deployment)) / 100 < due
        staged[serial] = chosen
        deployment["staged_count"] = count + int(chosen)
        return chosen

    def _stage(self, project: dict, deployment: dict) -> None:
        """Stage the rounded share of the cohort's current devices, first in the seeded ranking
        (devices staged before stay staged)."""
        cohort = next((c for c in self.cohorts.values() if c["id"] == deployment["cohort_id"]),
                      None)
        members = [d["device_serial"] for d in self.indexes[self.devices.name].records(
            "cohort", (project["id"], cohort["slug"]))] if cohort is not None else []
        staged = deployment.setdefault("staged", {})
        target = (deployment["rollout_percent"] * len(members) + 50) // 100
        have = sum(1 for serial in members if staged.get(serial))
        salt = self.rollout_salt(deployment)
        waiting = sorted((s for s in members if not staged.get(s)),
                         key=lambda s: (bucket(s, salt), s))
        for serial in waiting[:max(0, target - have)]:
            staged[serial] = True
        for serial in waiting[max(0, target - have):]:
            staged[serial] = False
        deployment["staged_count"] = sum(1 for v in staged.values() if v)

    def create_deployment(self, project: dict, body: dict, deployer: dict) -> dict:
        reject_unknown(body, ("type", "release", "cohort", "rollout_percent", "extra_info"))
        kind = body.get("type", "normal")
        if kind not in DEPLOYMENT_TYPES:
            raise field_error("type", f"Must be one of: {', '.join(DEPLOYMENT_TYPES)}.")
        if body.get("release") is None:
            raise field_error("release", "Missing data for required field.")
        if body.get("cohort") is None:
            raise field_error("cohort", "Missing data for required field.")
        percent = self._percent(body.get("rollout_percent"), kind)
        extra_info = optional_mapping(body.get("extra_info"), "extra_info")
        release = self.get_release(project, body["release"])
        cohort = self.get_cohort(project, body["cohort"])
        carried: dict = {}
        for previous in self.deployments.values():
            if (previous["release_id"], previous["cohort_id"]) == (release["id"], cohort["id"]) \
                    and previous["status"] in ACTIVE:
                carried.update({s: True for s, v in previous.get("staged", {}).items() if v})
                self.deactivate(previous)
        now = self.now()
        record = {
            "id": self.ids.counter("memfault.deployment"), "project_id": project["id"],
            "release_id": release["id"], "cohort_id": cohort["id"], "type": kind,
            "rollout_percent": percent, "status": self._status(kind, percent),
            "deployer": dict(deployer), "extra_info": extra_info,
            "created_date": now, "updated_date": now, "deployed_date": now,
        }
        if kind == "staged_rollout":
            record["staged"] = carried
            self._stage(project, record)
        self.deployments[str(record["id"])] = record
        return record

    @staticmethod
    def _percent(value: Any, kind: str) -> Optional[int]:
        if kind == "normal":
            # 0 is how a normal deployment renders (Memfault's example), so it may come back
            if value not in (None, 0, 100):
                raise field_error("rollout_percent", "Only a staged_rollout has a percentage.")
            return None
        if value is None:
            raise field_error("rollout_percent", "Missing data for required field.")
        if not isinstance(value, int) or isinstance(value, bool):
            raise field_error("rollout_percent", "Not a valid integer.")
        if not 1 <= value <= 100:
            raise field_error("rollout_percent", "Must be between 1 and 100.")
        return value

    @staticmethod
    def _status(kind: str, percent: Optional[int]) -> str:
        return "done" if kind == "normal" or percent == 100 else "in_progress"

    def get_deployment(self, project: dict, deployment_id: str) -> dict:
        record = self.deployments.get(str(deployment_id))
        if record is None or record["project_id"] != project["id"]:
            raise NotFoundError(f"Deployment with id `{deployment_id}` not found")
        return record

    def update_deployment(self, deployment: dict, body: dict) -> dict:
        """``PATCH``: ``extra_info``, and ``rollout_percent`` of an active staged rollout."""
        reject_unknown(body, ("extra_info", "rollout_percent"))
        changes: dict[str, Any] = {}
        if "extra_info" in body:
            changes["extra_info"] = optional_mapping(body["extra_info"], "extra_info")
        if "rollout_percent" in body:
            if deployment["type"] != "staged_rollout" or deployment["status"] not in ACTIVE:
                raise InvalidUsageError(
                    "Only an active staged_rollout deployment has a percentage to change")
            percent = self._percent(body["rollout_percent"], "staged_rollout")
            if percent < deployment["rollout_percent"]:
                raise field_error("rollout_percent", "A staged rollout can only grow; deactivate "
                                  "it to stop it.")
            changes["rollout_percent"] = percent
            changes["status"] = self._status("staged_rollout", percent)
        if changes:
            deployment.update(changes)
            deployment["updated_date"] = self.now()
            if "rollout_percent" in changes:
                self._stage(self.projects[str(deployment["project_id"])], deployment)
        return deployment

    def deactivate(self, deployment: dict) -> None:
        if deployment["status"] in ACTIVE:
            deployment["status"] = INACTIVE
            deployment["updated_date"] = self.now()

    def active_deployments(self, project_id: int, cohort_id: int) -> list[dict]:
        return [d for d in self.deployments.values() if d["project_id"] == project_id
                and d["cohort_id"] == cohort_id and d["status"] in ACTIVE]

    def list_deployments(self, project: dict, query: Query) -> tuple[list[dict], dict]:
        """Filters ``release[]`` (full), ``delta_from``/``delta_to``, ``cohort[]``, ``status[]``,
        ``type[]``, ``since``/``until`` (deployed date); sort default ``-deployed_date``."""
        rows = [d for d in self.deployments.values() if d["project_id"] == project["id"]]
        releases, cohorts = values(query, "release"), values(query, "cohort")
        statuses, kinds = values(query, "status"), values(query, "type")
        delta_from, delta_to = values(query, "delta_from"), values(query, "delta_to")
        since, until = query_time(query, "since"), query_time(query, "until")

        def release_of(d: dict) -> dict:
            return self.releases.get(str(d["release_id"])) or {"version": None, "delta_from": None}

        if releases:
            rows = [d for d in rows if release_of(d)["delta_from"] is None
                    and (release_of(d)["version"] in releases or str(d["release_id"]) in releases)]
        if delta_from or delta_to:
            rows = [d for d in rows if release_of(d)["delta_from"] is not None
                    and (not delta_from or release_of(d)["delta_from"] in delta_from)
                    and (not delta_to or release_of(d)["version"] in delta_to)]
        if cohorts:
            slugs = {c["id"]: c["slug"] for c in self.cohorts.values()}
            rows = [d for d in rows if slugs.get(d["cohort_id"]) in cohorts
                    or str(d["cohort_id"]) in cohorts]
        if statuses:
            rows = [d for d in rows if d["status"] in statuses]
        if kinds:
            rows = [d for d in rows if d["type"] in kinds]
        if since is not None:
            rows = [d for d in rows if self.parse_time(d["deployed_date"]) >= since]
        if until is not None:
            rows = [d for d in rows if self.parse_time(d["deployed_date"]) <= until]
        keys = {"deployed_date": lambda d: (d["deployed_date"], d["id"]),
                "created_date": lambda d: (d["created_date"], d["id"]), "id": lambda d: d["id"]}
        return paginate(sort_records(rows, query, keys, "-deployed_date"), query)

    def _release_summary(self, deployment: dict) -> Optional[dict]:
        release = self.releases.get(str(deployment["release_id"]))
        if release is None:
            return None
        summary = {"id": release["id"], "revision": release["revision"],
                   "version": release["version"]}
        if release["delta_from"] is not None:
            summary["delta_from"] = release["delta_from"]
            summary["delta_to"] = release["version"]
        return summary

    def render_deployment_summary(self, deployment: dict) -> dict:
        """The short form a cohort lists."""
        return {"id": deployment["id"], "type": deployment["type"],
                "status": deployment["status"], "deployer": deployment["deployer"],
                "release": self._release_summary(deployment)}

    def render_deployment(self, deployment: dict) -> dict:
        cohort = next((c for c in self.cohorts.values() if c["id"] == deployment["cohort_id"]),
                      None)
        return {
            "cohort": {
                "count_devices": self.count_cohort_devices(cohort["project_id"], cohort["slug"]),
                "id": cohort["id"], "name": cohort["name"], "slug": cohort["slug"],
            } if cohort else None,
            "created_date": deployment["created_date"],
            "deployed_date": deployment["deployed_date"],
            "deployer": deployment["deployer"],
            "extra_info": deployment["extra_info"],
            "id": deployment["id"],
            "release": self._release_summary(deployment),
            # Memfault's example shows 0 for a normal deployment.
            "rollout_percent": deployment["rollout_percent"] or 0,
            "status": deployment["status"],
            "type": deployment["type"],
            "updated_date": deployment["updated_date"],
        }
