"""Organizations, projects, users and the three kinds of credentials, and who may do what.

* Organization Auth Token (``oat_...``): ``Authorization: Bearer oat_...`` or HTTP Basic with an
  empty user name (``:oat_...``). Management API of every project of its organization.
* User API key: HTTP Basic ``email:key``. Management API of the projects of the user's orgs.
* Project Key: ``Memfault-Project-Key``. Device-facing endpoints of its one project, nothing else.

Management endpoints answer 401 without a usable credential (a project key is not one) and 403
for a project of another organization; device endpoints answer 403 without a valid project key,
as Memfault documents.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Optional

from .errors import AuthenticationError, ConflictError, ForbiddenError, NotFoundError
from .util import SLUG_RE, field_error, require_str


class TenancyMixin:
    """Tenants and credentials; mixed into :class:`~.models.MemfaultBackend`."""

    orgs: dict
    projects: dict
    users: dict
    org_tokens: dict

    # -- tenants -------------------------------------------------------------------------------

    def create_org(self, slug: str, name: Optional[str] = None) -> dict:
        """An organization; its slug is what the CLI's ``--org`` names."""
        slug = require_str(slug, "slug")
        if not SLUG_RE.match(slug):
            raise field_error("slug", "Must be lower-case letters, digits, - and _.")
        if any(o["slug"] == slug for o in self.orgs.values()):
            raise ConflictError(f"Organization with slug `{slug}` already exists")
        org_id = self.ids.counter("memfault.org")
        now = self.now()
        record = {"id": org_id, "slug": slug, "name": name or slug,
                  "created_date": now, "updated_date": now}
        self.orgs[str(org_id)] = record
        return record

    def org_by_slug(self, slug: str) -> Optional[dict]:
        return next((o for o in self.orgs.values() if o["slug"] == slug), None)

    def create_project(
        self,
        org: dict,
        slug: str,
        name: Optional[str] = None,
        *,
        max_ota_upload_size: int = 0,
        multipart_part_size: int = 5 * 1024 * 1024,
        api_key: Optional[str] = None,
    ) -> dict:
        """A project with a fresh project key; ``max_ota_upload_size`` > 0 makes the CLI upload
        OTA payloads in parts of ``multipart_part_size`` bytes and caps their size."""
        slug = require_str(slug, "slug")
        if not SLUG_RE.match(slug):
            raise field_error("slug", "Must be lower-case letters, digits, - and _.")
        if any(p["org_id"] == org["id"] and p["slug"] == slug for p in self.projects.values()):
            raise ConflictError(f"Project with slug `{slug}` already exists")
        project_id = self.ids.counter("memfault.project")
        now = self.now()
        record = {
            "id": project_id, "org_id": org["id"], "slug": slug, "name": name or slug,
            "api_key": api_key or self.ids.hex("memfault.project_key", 32),
            "max_ota_upload_size": int(max_ota_upload_size),
            "multipart_part_size": max(1, int(multipart_part_size)),
            "created_date": now, "updated_date": now,
        }
        self.projects[str(project_id)] = record
        self.after_project_created(record)
        return record

    def after_project_created(self, project: dict) -> None:
        """Hook for reference data every project has (the ``default`` cohort)."""

    def regenerate_project_key(self, project: dict) -> str:
        project["api_key"] = self.ids.hex("memfault.project_key", 32)
        project["updated_date"] = self.now()
        return project["api_key"]

    def render_project(self, project: dict) -> dict:
        org = self.orgs[str(project["org_id"])]
        return {
            "id": project["id"],
            "name": project["name"],
            "slug": project["slug"],
            "organization": {"id": org["id"], "name": org["name"], "slug": org["slug"]},
            "max_ota_upload_size": project["max_ota_upload_size"],
            "qcomm_enabled": False,
            "created_date": project["created_date"],
            "updated_date": project["updated_date"],
        }

    def create_org_token(self, org: dict, name: str = "fleetsim", token: Optional[str] = None) -> dict:
        """An Organization Auth Token (``oat_`` + 40 characters)."""
        token_id = self.ids.counter("memfault.org_token")
        record = {"id": token_id, "org_id": org["id"], "name": name,
                  "token": token or self.ids.token("memfault.org_token", "oat_", 40),
                  "created_date": self.now()}
        self.org_tokens[str(token_id)] = record
        return record

    def create_user(self, email: str, orgs: list[dict], name: Optional[str] = None,
                    api_key: Optional[str] = None, password: Optional[str] = None) -> dict:
        """A user who is a member of ``orgs``, with a user API key (and maybe a password)."""
        email = require_str(email, "email")
        existing = next((u for u in self.users.values() if u["email"] == email), None)
        if existing is not None:
            for org in orgs:
                if org["id"] not in existing["org_ids"]:
                    existing["org_ids"].append(org["id"])
            return existing
        user_id = self.ids.counter("memfault.user")
        record = {"id": user_id, "email": email, "name": name or email.split("@")[0],
                  "api_key": api_key or self.ids.hex("memfault.user_api_key", 40),
                  "password": password, "org_ids": [o["id"] for o in orgs]}
        self.users[str(user_id)] = record
        return record

    # -- credentials ---------------------------------------------------------------------------

    def authenticate(self, authorization: Optional[str], project_key: Optional[str]) -> dict:
        """The principal behind a management request, or 401.

        Returns ``{"kind", "org_ids", "deployer"}``; ``deployer`` is what a deployment records.
        """
        if not authorization:
            if project_key:
                raise AuthenticationError(
                    "A Project Key cannot be used on this endpoint; use an Organization Auth "
                    "Token or a User API Key"
                )
            raise AuthenticationError("Authentication required")
        scheme, _, credentials = authorization.strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "bearer":
            return self._org_token_principal(credentials)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                raise AuthenticationError("Malformed Basic credentials") from None
            user, sep, secret = decoded.partition(":")
            if not sep or not secret:
                raise AuthenticationError("Malformed Basic credentials")
            if not user:
                return self._org_token_principal(secret)
            return self._user_principal(user, secret)
        raise AuthenticationError(f"Unsupported authorization scheme `{scheme}`")

    def _org_token_principal(self, token: str) -> dict:
        record = next((t for t in self.org_tokens.values() if t["token"] == token), None)
        if record is None:
            raise AuthenticationError("Invalid Organization Auth Token")
        return {"kind": "org_token", "org_ids": [record["org_id"]],
                "deployer": {"email": None, "id": record["id"], "name": record["name"]}}

    def _user_principal(self, email: str, secret: str) -> dict:
        user = next((u for u in self.users.values() if u["email"] == email), None)
        if user is None or secret not in (user["api_key"], user.get("password")):
            raise AuthenticationError("Invalid email or API key")
        return {"kind": "user", "org_ids": list(user["org_ids"]),
                "deployer": {"email": user["email"], "id": user["id"], "name": user["name"]}}

    def project_for(self, principal: dict, org_slug: str, project_slug: str) -> dict:
        """The project at ``/organizations/{org}/projects/{project}`` if the principal may use it."""
        org = self.org_by_slug(org_slug)
        if org is None or org["id"] not in principal["org_ids"]:
            raise ForbiddenError(f"You do not have access to organization `{org_slug}`")
        project = next((p for p in self.projects.values()
                        if p["org_id"] == org["id"] and p["slug"] == project_slug), None)
        if project is None:
            raise NotFoundError(f"Project with slug `{project_slug}` not found")
        return project

    def project_by_key(self, project_key: Optional[str]) -> dict:
        """The project a device speaks for, or 403 (Memfault's answer to a missing/bad key)."""
        if not project_key:
            raise ForbiddenError("Missing Memfault-Project-Key header")
        project = next((p for p in self.projects.values() if p["api_key"] == project_key), None)
        if project is None:
            raise ForbiddenError("Invalid Memfault-Project-Key")
        return project

    def lookup_project(self, org_slug: str, project_slug: str) -> Any:
        """Seeding helper: the project by slugs, without credentials."""
        org = self.org_by_slug(org_slug)
        if org is None:
            raise NotFoundError(f"Organization with slug `{org_slug}` not found")
        for project in self.projects.values():
            if project["org_id"] == org["id"] and project["slug"] == project_slug:
                return project
        raise NotFoundError(f"Project with slug `{project_slug}` not found")
