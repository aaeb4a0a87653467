"""Memfault's state and rules, assembled from one mixin per concern (no Flask here).

``auth`` (tenants, credentials), ``catalog`` (hardware versions, software types/versions),
``devices`` (devices, cohorts), ``attributes``, ``uploads`` (prepared uploads, signed storage),
``releases`` (releases, artifacts, OTA payload commits), ``deployments``, ``ota`` (the OTA
check's precedence rule, chunks) and ``artifacts`` (symbols, SBOMs, coredumps and other uploads).
Every record is a plain JSON-able dict in a store table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..core.clock import parse_when
from ..core.index import Indexes, TableIndex
from ..core.rollout import release_key
from .artifacts import ArtifactsMixin
from .attributes import AttributesMixin
from .auth import TenancyMixin
from .catalog import CatalogMixin
from .deployments import DeploymentsMixin
from .devices import DEFAULT_COHORT, DevicesMixin
from .ota import OtaMixin
from .releases import ReleasesMixin
from .uploads import UploadsMixin

TABLES = ("orgs", "projects", "users", "org_tokens", "hardware_versions", "software_types",
          "software_versions", "cohorts", "devices", "custom_metrics", "attribute_states",
          "uploads", "releases", "artifacts", "deployments", "chunks", "files")


class MemfaultBackend(TenancyMixin, CatalogMixin, DevicesMixin, AttributesMixin, UploadsMixin,
                      ReleasesMixin, DeploymentsMixin, OtaMixin, ArtifactsMixin):
    """All Memfault state of one fake cloud. Tables are named ``memfault.<name>``."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.ids = cloud.ids
        self.clock = cloud.clock
        for name in TABLES:
            setattr(self, name, cloud.store.table(f"memfault.{name}"))
        #: Keys only, derived from the tables: a project's devices in order, per cohort, per
        #: hardware version and per last-seen release (counts without a scan), and full
        #: releases by version (the OTA check looks the reported version up on every poll).
        self.indexes = Indexes({
            self.devices.name: TableIndex(
                self.devices, project=lambda d: d["project_id"],
                cohort=lambda d: (d["project_id"], d["cohort"]),
                hardware=lambda d: (d["project_id"], d["hardware_version"]),
                release=lambda d: d["last_seen_release_id"]),
            self.releases.name: TableIndex(
                self.releases, full=lambda r: (r["project_id"], r["version"])
                if r["delta_from"] is None else None),
        })

    def after_reset(self) -> None:
        self.indexes.clear_all()

    def after_restore(self) -> None:
        self.indexes.rebuild_all()

    def index_problems(self) -> list[str]:
        """Where an index disagrees with a plain scan of its table (tests call this)."""
        return self.indexes.problems()

    def now(self) -> str:
        """The clock's now in Memfault's timestamp form (microseconds, ``+00:00``)."""
        return self.clock.isoformat()

    @staticmethod
    def parse_time(text: str) -> datetime:
        return parse_when(text)

    @staticmethod
    def version_key(version: str) -> tuple:
        """Memfault's version order (natsort with pre-releases first), from ``core.rollout``."""
        return release_key(version)

    def after_project_created(self, project: dict) -> None:
        """Every project has a ``default`` cohort, which holds every device not put elsewhere
        (named ``default`` too, as Memfault's tutorial responses show it)."""
        self.create_cohort(project, DEFAULT_COHORT, DEFAULT_COHORT)
