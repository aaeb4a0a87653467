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
