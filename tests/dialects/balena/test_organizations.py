"""Organizations, memberships, invites (fleet and organization) with balena-sdk 17.3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from balena import exceptions


def test_personal_org_and_create(models: Any, user: Any) -> None:
    personal = models.organization.get(user.username)
    assert personal["handle"] == user.username and personal["id"] == user.org["id"]
    assert models.organization.get(user.org["id"])["handle"] == user.username
    org = models.organization.create("My Org", "my_org")
    assert (org["name"], org["handle"]) == ("My Org", "my_org")
    generated = models.organization.create("Second Org!")
    assert generated["handle"] == "second_org"
    assert [o["handle"] for o in models.organization.get_all()] == [
        "my_org", "second_org", user.username]
    # the creator is the administrator
    members = models.organization.membership.get_all_by_organization("my_org")
    admin = models.organization.membership.get(members[0]["id"], {
        "$expand": {"organization_membership_role": {"$select": "name"}}})
    assert admin["organization_membership_role"][0]["name"] == "administrator"
    assert admin["user"] == {"__id": user.id}
    with pytest.raises(exceptions.RequestError) as err:
        models.organization.create("Dup", "my_org")
    assert err.value.status_code == 409 and "unique" in err.value.message
    models.organization.remove("my_org")
    with pytest.raises(exceptions.OrganizationNotFound):
        models.organization.get("my_org")


def test_create_with_logo(models: Any, tmp_path: Path) -> None:
    path = tmp_path / "logo.png"
    path.write_bytes(b"\x89PNG fake logo")
    with path.open("rb") as logo:
        org = models.organization.create("Logo Org", "logo_org", logo)
    assert org["logo_image"]["filename"] == "logo.png" and org["logo_image"]["href"]
    assert org["logo_image"]["size"] == len(b"\x89PNG fake logo")


def test_memberships_roles_and_refusals(fleetsim: Any, models: Any, user: Any, other: Any) -> None:
    org = models.organization.create("Team", "team_org")
    other_user = other.fleetsim_user
    role = fleetsim.cloud.backends["balena"].db.find("organization_membership_role", name="member")[0]
    membership = models.organization.membership.get_all_by_organization(org["id"])[0]
    assert membership["is_member_of__organization"] == {"__id": org["id"]}
    # the other user, not a member, sees nothing of the org and cannot add itself
    with pytest.raises(exceptions.OrganizationNotFound):
        other.models.organization.get("team_org")
    with pytest.raises(exceptions.RequestError) as err:
        other.pine.post({"resource": "organization_membership", "body": {
            "user": other_user.id, "is_member_of__organization": org["id"],
            "organization_membership_role": role["id"]}})
    assert err.value.status_code == 401
    assert len(models.organization.membership.get_all_by_organization(org["id"])) == 1


def test_fleet_memberships(fleetsim: Any, models: Any, fleet: dict, other: Any) -> None:
    member = models.application.membership.create(fleet["id"], other.fleetsim_user.username)
    assert member["is_member_of__application"] == {"__id": fleet["id"]}
    assert other.models.application.get(fleet["id"])["id"] == fleet["id"]
    assert [a["id"] for a in other.models.application.get_all()] == [fleet["id"]]
    observer = models.application.membership.change_role(member["id"], "observer")
    assert observer is None
    with pytest.raises(exceptions.RequestError):
        other.models.application.env_var.set(fleet["id"], "X", "1")
    models.application.membership.change_role(member["id"], "developer")
    other.models.application.env_var.set(fleet["id"], "X", "1")
    assert len(models.application.membership.get_all_by_application(fleet["id"])) == 1
    models.application.membership.remove(member["id"])
    with pytest.raises(exceptions.ApplicationNotFound):
        other.models.application.get(fleet["id"])
    with pytest.raises(exceptions.RequestError) as err:
        models.application.membership.create(fleet["id"], "no_such_user")
    assert err.value.status_code == 400
    with pytest.raises(exceptions.BalenaApplicationMembershipRoleNotFound):
        models.application.membership.create(fleet["id"], other.fleetsim_user.username, "boss")


def test_fleet_invites(fleetsim: Any, models: Any, fleet: dict, other: Any, user: Any) -> None:
    invite = models.application.invite.create(fleet["id"], {
        "invitee": "someone@example.com", "roleName": "developer", "message": "hi"})
    assert invite["is_invited_to__application"]["__id"] == fleet["id"]
    assert invite["message"] == "hi" and "invitation_token" not in invite
    assert [i["id"] for i in models.application.invite.get_all_by_application(fleet["id"])] == \
        [invite["id"]]
    with pytest.raises(exceptions.BalenaApplicationMembershipRoleNotFound):
        models.application.invite.create(fleet["id"], {"invitee": "a@example.com",
                                                       "roleName": "boss"})
    token = fleetsim.balena.invitation_token(invite)
    other.models.application.invite.accept(token)
    assert other.models.application.get(fleet["id"])["id"] == fleet["id"]
    assert models.application.invite.get_all() == []
    second = models.application.invite.create(fleet["id"], {"invitee": "b@example.com"})
    models.application.invite.revoke(second["id"])
    assert models.application.invite.get_all_by_application(fleet["id"]) == []


def test_organization_invites(fleetsim: Any, models: Any, user: Any, other: Any) -> None:
    invite = models.organization.invite.create(user.username, "other@example.com", "member", "hey")
    assert invite["is_invited_to__organization"] == {"__id": user.org["id"]}
    assert len(models.organization.invite.get_all_by_organization(user.org["id"])) == 1
    with pytest.raises(exceptions.BalenaOrganizationMembershipRoleNotFound):
        models.organization.invite.create(user.username, "x@example.com", "owner")
    # a non-admin cannot invite, and cannot see the invites
    with pytest.raises(exceptions.OrganizationNotFound):
        other.models.organization.invite.create(user.username, "x@example.com", "member")
    other.models.organization.invite.accept(fleetsim.balena.invitation_token(invite, "organization"))
    assert user.username in [o["handle"] for o in other.models.organization.get_all()]
    with pytest.raises(exceptions.RequestError) as err:  # a plain member is not an administrator
        other.pine.post({"resource": "invitee__is_invited_to__organization", "body": {
            "invitee": "x@example.com", "is_invited_to__organization": user.org["id"],
            "organization_membership_role": invite["organization_membership_role"]["__id"]}})
    assert err.value.status_code == 401


def test_org_roles(fleetsim: Any, models: Any, user: Any) -> None:
    """A plain member works on the organization's fleets but cannot change the organization."""
    member = fleetsim.balena.user("plain_member")
    org = fleetsim.balena.organization("Acme", "acme", members={user: "administrator",
                                                                 member: "member"})
    member_sdk = member.sdk()
    fleet = member_sdk.models.application.create("acme-fleet", "raspberrypi4-64", "acme")
    member_sdk.models.application.env_var.set(fleet["id"], "A", "1")
    assert {a["slug"] for a in models.application.get_all()} == {"acme/acme-fleet"}
    # the member sees the organization, so a refused change is a 401 (not a silent no-match)
    with pytest.raises(exceptions.RequestError) as err:
        member_sdk.pine.patch({"resource": "organization", "id": org["id"], "body": {"name": "Mine"}})
    assert err.value.status_code == 401
    with pytest.raises(exceptions.RequestError) as err:
        member_sdk.models.organization.remove(org["id"])
    assert err.value.status_code == 401
    with pytest.raises(exceptions.RequestError) as err:
        member_sdk.models.organization.invite.create("acme", "x@example.com", "member")
    assert err.value.status_code == 401
    assert models.organization.get("acme")["name"] == "Acme"
    models.organization.remove(org["id"])  # the administrator can
    with pytest.raises(exceptions.OrganizationNotFound):
        models.organization.get("acme")
    with pytest.raises(exceptions.ApplicationNotFound):  # its fleets went with it
        member_sdk.models.application.get(fleet["id"])


def test_running_release_changes_write_history(fleetsim: Any, sdk: Any, fleet: dict) -> None:
    from datetime import datetime, timezone

    r1, r2 = fleetsim.balena.release(fleet), fleetsim.balena.release(fleet)
    device = fleetsim.balena.device(fleet)
    for release in (r1, r2):
        fleetsim.clock.advance(60)
        sdk.pine.patch({"resource": "device", "id": device["id"],
                        "body": {"is_running__release": release["id"]}})
    sdk.pine.patch({"resource": "device", "id": device["id"], "body": {"note": "not history"}})
    rows = sdk.models.device.history.get_all_by_device(
        device["id"], from_date=datetime(2025, 1, 1, tzinfo=timezone.utc))
    running = [r["is_running__release"] for r in sorted(rows, key=lambda r: r["id"])]
    assert running == [None, {"__id": r1["id"]}, {"__id": r2["id"]}]
    assert [r["end_timestamp"] is None for r in sorted(rows, key=lambda r: r["id"])] == \
        [False, False, True]
