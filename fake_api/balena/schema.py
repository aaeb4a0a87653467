"""The balena v7 resource model (reference §6) as data: the OData engine and ``BalenaDb`` are
generic and read everything they know about a resource from here.

A resource has plain fields (typed), to-one links (stored as the target's integer id, served as
``{"__id": N}``), reverse navigations (to-many, found through a link of another resource or
computed), keys (the integer ``id``, alternate and composite natural keys), unique constraints and
the behaviour of its links when the target is deleted. Synonym resources (``release_image`` =
``image__is_part_of__release``) are one table under two names. Computed fields and navigations
get their callable from ``compute``/``compute_nav`` (B2's ``rules.py``), so a resource added later
is a schema entry, never engine code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

# Field types. "date" values are stored as "YYYY-MM-DDTHH:MM:SS.mmmZ" strings (sortable as text).
TYPES = ("int", "text", "bool", "date", "json", "real")


@dataclass
class Field:
    name: str
    type: str
    nullable: bool = True
    default: Any = None
    hidden: bool = False  # stored and writable by the db, never read or written through OData
    computed: bool = False  # value from the callable in ``Resource.computed`` at read time


@dataclass
class Link:
    """A to-one link: the row stores the target's id (or None)."""

    name: str
    target: str
    nullable: bool = True
    on_delete: str = "cascade"  # what happens to *this* row when the target goes: cascade/set_null/restrict
    computed: bool = False


@dataclass
class Nav:
    """A to-many navigation: rows of ``resource`` whose link ``fk`` points here, or computed."""

    name: str
    resource: str
    fk: Optional[str] = None  # None when computed


@dataclass
class Resource:
    name: str
    fields: dict[str, Field]
    links: dict[str, Link]
    navs: dict[str, Nav] = field(default_factory=dict)
    alternate_keys: list[tuple[str, ...]] = field(default_factory=list)
    unique: list[tuple[str, ...]] = field(default_factory=list)
    field_synonyms: dict[str, str] = field(default_factory=dict)  # alias -> stored name
    computed: dict[str, Callable[[dict, Any], Any]] = field(default_factory=dict)
    computed_navs: dict[str, Callable[[dict, Any], Any]] = field(default_factory=dict)

    def column(self, name: str) -> Optional[Field | Link]:
        """The field or link called ``name`` (synonyms resolved), or None."""
        name = self.field_synonyms.get(name, name)
        return self.fields.get(name) or self.links.get(name)

    @property
    def readable(self) -> list[str]:
        """Every name a default ``$select`` returns, in declaration order (synonyms included)."""
        out = [n for n, f in self.fields.items() if not f.hidden]
        out += list(self.links)
        out += list(self.field_synonyms)
        return out


RESOURCES: dict[str, Resource] = {}
SYNONYMS: dict[str, str] = {}  # alias resource name -> canonical


def resource(name: str) -> Optional[Resource]:
    """The resource called ``name`` (synonyms resolved), or None."""
    return RESOURCES.get(SYNONYMS.get(name, name))


def canonical(name: str) -> str:
    return SYNONYMS.get(name, name)


def compute(resource_name: str, field_name: str) -> Callable:
    """Decorator: register ``fn(row, ctx) -> value`` for a computed field or computed link."""
    def register(fn: Callable[[dict, Any], Any]) -> Callable[[dict, Any], Any]:
        RESOURCES[resource_name].computed[field_name] = fn
        return fn
    return register


def compute_nav(resource_name: str, nav_name: str) -> Callable:
    """Decorator: register ``fn(row, ctx) -> iterable of target ids`` for a computed navigation."""
    def register(fn: Callable[[dict, Any], Any]) -> Callable[[dict, Any], Any]:
        RESOURCES[resource_name].computed_navs[nav_name] = fn
        return fn
    return register


# --- declaration helpers -------------------------------------------------------------------------

def _fields(spec: str) -> dict[str, Field]:
    """``"name:type"`` words; suffix ``!`` = not null, ``~`` = computed, ``^`` = hidden,
    ``=value`` = default (``true``/``false``/numbers/text)."""
    out: dict[str, Field] = {"id": Field("id", "int", nullable=False)}
    for word in spec.split():
        default: Any = None
        if "=" in word:
            word, raw = word.split("=", 1)
            default = {"true": True, "false": False}.get(raw, raw)
            if isinstance(default, str) and default.lstrip("-").isdigit():
                default = int(default)
        flags = ""
        while word[-1] in "!~^":
            flags += word[-1]
            word = word[:-1]
        name, type_ = word.split(":")
        assert type_ in TYPES, (name, type_)
        out[name] = Field(name, type_, nullable="!" not in flags, default=default,
                          hidden="^" in flags, computed="~" in flags)
    return out


def _links(**spec: str) -> dict[str, Link]:
    """``name="target[:on_delete][!]"`` (``!`` not null, ``~`` computed)."""
    out = {}
    for name, value in spec.items():
        nullable = not value.endswith("!")
        computed = value.endswith("~")
        target, _, on_delete = value.rstrip("!~").partition(":")
        out[name] = Link(name, target, nullable=nullable, on_delete=on_delete or "cascade",
                         computed=computed)
    return out


def _navs(**spec: str) -> dict[str, Nav]:
    """``name="resource.fk"`` or ``name="resource~"`` (computed)."""
    out = {}
    for name, value in spec.items():
        if value.endswith("~"):
            out[name] = Nav(name, value[:-1])
        else:
            res, fk = value.split(".")
            out[name] = Nav(name, res, fk)
    return out


def _add(name: str, fields: str, links: Optional[dict] = None, navs: Optional[dict] = None,
         keys: tuple = (), unique: tuple = (), synonyms: tuple = (),
         field_synonyms: Optional[dict] = None) -> None:
    res = Resource(name, _fields(fields), links or {}, navs or {},
                   alternate_keys=[tuple(k) for k in keys],
                   unique=[tuple(u) for u in unique] + [tuple(k) for k in keys if tuple(k) not in
                                                         [tuple(u) for u in unique]],
                   field_synonyms=field_synonyms or {})
    RESOURCES[name] = res
    for alias in synonyms:
        SYNONYMS[alias] = name


def _var(name: str, parent: str) -> None:
    """A variable level: ``name``/``value`` under ``parent``, unique per (parent, name)."""
    _add(name, "created_at:date name:text! value:text!", _links(**{parent: f"{parent}!"}),
         keys=[(parent, "name")])


def _tag(name: str, parent: str) -> None:
    _add(name, "tag_key:text! value:text!=", _links(**{parent: f"{parent}!"}),
         keys=[(parent, "tag_key")])


# --- the model -----------------------------------------------------------------------------------

_add("actor", "", navs=_navs(is_of__user="user.actor", is_of__application="application.actor",
                              is_of__device="device.actor", api_key="api_key.is_of__actor"))

_add("user", "created_at:date username:text! email:text^ password:text^ jwt_secret:text^",
     _links(actor="actor"),
     _navs(organization_membership="organization_membership.user",
           user__is_member_of__organization="organization_membership.user",
           user_application_membership="user_application_membership.user",
           user__is_member_of__application="user_application_membership.user",
           team_membership="team_membership.user",
           user__has__public_key="user__has__public_key.user"),
     keys=[("username",)])

_add("user__has__public_key", "created_at:date title:text! public_key:text!",
     _links(user="user!"))

_add("api_key", "created_at:date name:text description:text expiry_date:date key:text^",
     _links(is_of__actor="actor!"), unique=[("key",)])

_add("cpu_architecture", "slug:text!",
     navs=_navs(is_supported_by__device_type="device_type.is_of__cpu_architecture"),
     keys=[("slug",)])

_add("device_family", "created_at:date slug:text! name:text!",
     navs=_navs(device_type="device_type.belongs_to__device_family"), keys=[("slug",)])

_add("device_type", "slug:text! name:text! logo:text contract:json is_private:bool=false",
     _links(is_of__cpu_architecture="cpu_architecture:restrict!",
            belongs_to__device_family="device_family:set_null"),
     _navs(device_type_alias="device_type_alias.device_type",
           is_default_for__application="application.is_for__device_type",
           describes__device="device.is_of__device_type"),
     keys=[("slug",)])

_add("device_type_alias", "is_referenced_by__alias:text!", _links(device_type="device_type!"),
     keys=[("is_referenced_by__alias",)])

_add("application_type", "name:text! slug:text! description:text supports_web_url:bool=true "
     "supports_multicontainer:bool=true supports_gateway_mode:bool=false is_legacy:bool=false "
     "requires_payment:bool=false needs__os_version_range:text maximum_device_count:int",
     navs=_navs(is_of__application="application.application_type"), keys=[("slug",)])

_add("organization",
     "created_at:date name:text! handle:text! logo_image:json company_name:text "
     "billing_account_code:text has_past_due_invoice_since__date:date is_frozen:bool=false "
     "industry:text website:text is_using__billing_version:text=v1 "
     "is_enforcing_saml_login:bool=false",
     navs=_navs(application="application.organization",
                organization_membership="organization_membership.is_member_of__organization",
                owns__team="team.belongs_to__organization",
                organization_invite="invitee__is_invited_to__organization.is_invited_to__organization",
                invitee__is_invited_to__organization=(
                    "invitee__is_invited_to__organization.is_invited_to__organization")),
     keys=[("handle",)])

_add("organization_membership_role", "name:text!", keys=[("name",)])
_add("application_membership_role", "name:text!", keys=[("name",)])

_add("organization_membership", "created_at:date effective_seat_role:text",
     _links(user="user!", is_member_of__organization="organization!",
            organization_membership_role="organization_membership_role:restrict!"),
     _navs(organization_membership_tag="organization_membership_tag.organization_membership"),
     unique=[("user", "is_member_of__organization")],
     synonyms=("user__is_member_of__organization",))

_tag("organization_membership_tag", "organization_membership")

_add("application",
     "created_at:date app_name:text! slug:text! uuid:text! should_track_latest_release:bool=true "
     "is_of__class:text=fleet is_host:bool=false is_archived:bool=false is_public:bool=false "
     "is_discoverable:bool=false is_accessible_by_support_until__date:date "
     "is_stored_at__repository_url:text",
     _links(actor="actor", organization="organization!",
            is_for__device_type="device_type:restrict!",
            should_be_running__release="release:set_null",
            application_type="application_type:restrict"),
     _navs(owns__device="device.belongs_to__application",
           owns__release="release.belongs_to__application",
           service="service.application",
           application_tag="application_tag.application",
           application_environment_variable="application_environment_variable.application",
           application_config_variable="application_config_variable.application",
           build_environment_variable="build_environment_variable.application",
           user_application_membership="user_application_membership.is_member_of__application",
           user__is_member_of__application=(
               "user_application_membership.is_member_of__application"),
           invitee__is_invited_to__application=(
               "invitee__is_invited_to__application.is_invited_to__application"),
           team_application_access="team_application_access.grants_access_to__application",
           is_directly_accessible_by__user="user~",
           can_use__application_as_host="application~"),
     keys=[("slug",), ("uuid",)])

_add("user_application_membership", "created_at:date",
     _links(user="user!", is_member_of__application="application!",
            application_membership_role="application_membership_role:restrict!"),
     unique=[("user", "is_member_of__application")],
     synonyms=("user__is_member_of__application",))

_add("invitee", "created_at:date email:text!", keys=[("email",)])

_add("invitee__is_invited_to__application", "created_at:date message:text invitation_token:text^",
     _links(invitee="invitee!", is_invited_to__application="application!",
            application_membership_role="application_membership_role:restrict!",
            is_created_by__user="user:set_null"),
     unique=[("invitee", "is_invited_to__application")], synonyms=("application_invite",))

_add("invitee__is_invited_to__organization", "created_at:date message:text invitation_token:text^",
     _links(invitee="invitee!", is_invited_to__organization="organization!",
            organization_membership_role="organization_membership_role:restrict!",
            is_created_by__user="user:set_null"),
     unique=[("invitee", "is_invited_to__organization")], synonyms=("organization_invite",))

_add("team", "created_at:date name:text!", _links(belongs_to__organization="organization!"),
     _navs(includes__user="team_membership.is_member_of__team",
           team_application_access="team_application_access.team"),
     unique=[("belongs_to__organization", "name")])
_add("team_membership", "created_at:date", _links(user="user!", is_member_of__team="team!"),
     unique=[("user", "is_member_of__team")])
_add("team_application_access", "",
     _links(team="team!", grants_access_to__application="application!",
            application_membership_role="application_membership_role:restrict!"),
     unique=[("team", "grants_access_to__application")])

_add("service_instance", "created_at:date service_type:text ip_address:text last_heartbeat:date")

_add("release",
     "created_at:date commit:text! status:text! source:text=cloud composition:json contract:json "
     "build_log:text is_invalidated:bool=false invalidation_reason:text is_passing_tests:bool=true "
     "is_final:bool=true is_finalized_at__date:date start_timestamp:date end_timestamp:date "
     "update_timestamp:date semver:text=0.0.0 semver_major:int=0 semver_minor:int=0 "
     "semver_patch:int=0 semver_prerelease:text= semver_build:text= variant:text= revision:int "
     "raw_version:text version:json phase:text known_issue_list:text note:text "
     "release_version:text",
     _links(belongs_to__application="application!", is_created_by__user="user:set_null"),
     _navs(release_tag="release_tag.release",
           release_image="release_image.is_part_of__release",
           image__is_part_of__release="release_image.is_part_of__release",
           contains__image="release_image.is_part_of__release",
           should_be_running_on__application="application.should_be_running__release",
           is_running_on__device="device.is_running__release",
           is_pinned_to__device="device.is_pinned_on__release",
           should_operate__device="device.should_be_operated_by__release",
           should_manage__device="device.should_be_managed_by__release",
           image_install="image_install.is_provided_by__release"))

_tag("release_tag", "release")
_tag("application_tag", "application")

_add("service", "created_at:date service_name:text!", _links(application="application!"),
     _navs(service_environment_variable="service_environment_variable.service",
           service_install="service_install.installs__service",
           is_built_by__image="image.is_a_build_of__service"),
     keys=[("application", "service_name")])

_add("image",
     "created_at:date start_timestamp:date end_timestamp:date push_timestamp:date dockerfile:text "
     "image_size:int is_stored_at__image_location:text! project_type:text error_message:text "
     "build_log:text status:text! content_hash:text contract:json",
     _links(is_a_build_of__service="service!"),
     _navs(image_install="image_install.installs__image",
           release_image="release_image.image",
           image__is_part_of__release="release_image.image",
           is_part_of__release="release_image.image"))

_add("release_image", "created_at:date",
     _links(image="image!", is_part_of__release="release!"),
     unique=[("image", "is_part_of__release")], synonyms=("image__is_part_of__release",))

_add("device",
     "uuid:text! device_name:text! note:text created_at:date modified_at:date is_online:bool=false "
     "is_active:bool=true is_web_accessible:bool=false is_frozen:bool=false "
     "api_heartbeat_state:text=unknown overall_status:text~ overall_progress:int~ "
     "last_connectivity_event:date last_vpn_event:date is_connected_to_vpn:bool=false "
     "os_version:text os_variant:text supervisor_version:text ip_address:text public_address:text "
     "mac_address:text custom_latitude:text= custom_longitude:text= latitude:text longitude:text "
     "location:text status:text download_progress:int provisioning_state:text "
     "provisioning_progress:int memory_usage:int memory_total:int storage_block_device:text "
     "storage_usage:int storage_total:int cpu_usage:int cpu_temp:int cpu_id:text "
     "is_undervolted:bool=false is_accessible_by_support_until__date:date "
     "is_locked_until__date:date update_status:text local_id:text "
     "changed_api_heartbeat_state_on__date:date",
     _links(actor="actor", is_of__device_type="device_type:restrict!",
            belongs_to__application="application!", belongs_to__user="user:set_null",
            is_running__release="release:set_null", is_pinned_on__release="release:set_null",
            should_be_running__release="release~",
            should_be_operated_by__release="release:set_null",
            should_be_managed_by__release="release:set_null",
            is_managed_by__service_instance="service_instance:set_null"),
     _navs(device_tag="device_tag.device",
           device_environment_variable="device_environment_variable.device",
           device_config_variable="device_config_variable.device",
           image_install="image_install.device",
           service_install="service_install.device",
           device_history="device_history.tracks__device"),
     keys=[("uuid",)])

_tag("device_tag", "device")

_add("image_install", "created_at:date install_date:date download_progress:int status:text!",
     _links(device="device!", installs__image="image!", is_provided_by__release="release!"),
     unique=[("device", "installs__image")], field_synonyms={"image": "installs__image"})

_add("service_install", "created_at:date",
     _links(device="device!", installs__service="service!"),
     _navs(device_service_environment_variable=(
         "device_service_environment_variable.service_install")),
     unique=[("device", "installs__service")], field_synonyms={"service": "installs__service"})

_var("application_environment_variable", "application")
_var("application_config_variable", "application")
_var("build_environment_variable", "application")
_var("service_environment_variable", "service")
_var("device_environment_variable", "device")
_var("device_config_variable", "device")
_var("device_service_environment_variable", "service_install")

_add("device_history",
     "created_at:date end_timestamp:date uuid:text is_active:bool os_version:text "
     "os_variant:text supervisor_version:text cpu_id:text",
     _links(tracks__device="device:set_null", belongs_to__application="application:set_null",
            is_running__release="release:set_null", is_pinned_on__release="release:set_null",
            should_be_managed_by__release="release:set_null",
            is_of__device_type="device_type:set_null",
            is_created_by__actor="actor:set_null", is_ended_by__actor="actor:set_null",
            tracks__actor="actor:set_null"))


@compute("device", "should_be_running__release")
def _device_target_release(row: dict, ctx: Any) -> Optional[int]:
    """v7's computed target: the pin, else the fleet's target release."""
    if row.get("is_pinned_on__release") is not None:
        return row["is_pinned_on__release"]
    app = ctx.db.get("application", row.get("belongs_to__application"))
    return app.get("should_be_running__release") if app else None


def check() -> None:
    """Every link and navigation points at a declared resource (run by the unit tests)."""
    for res in RESOURCES.values():
        for link in res.links.values():
            assert canonical(link.target) in RESOURCES, (res.name, link.name)
            assert link.on_delete in ("cascade", "set_null", "restrict"), (res.name, link.name)
        for nav in res.navs.values():
            target = RESOURCES[canonical(nav.resource)]
            if nav.fk is not None:
                assert nav.fk in target.links, (res.name, nav.name)
        for cols in res.unique + res.alternate_keys:
            for col in cols:
                assert res.column(col) is not None, (res.name, col)
