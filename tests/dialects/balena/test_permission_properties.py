"""Hypothesis: for random organizations, fleets, memberships and roles, what each user can read
and change through OData equals a plain-Python statement of the permission model
(docs/balena.md). Bounded for CI; ``FLEETSIM_LONG=1`` runs many more examples."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_api.app import create_app
from fake_api.balena.seed import BalenaSeeder

LONG = os.environ.get("FLEETSIM_LONG") == "1"
SETTINGS = settings(max_examples=300 if LONG else 25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

APP = create_app()
ORG_ROLES = st.sampled_from(["administrator", "member"])
APP_ROLES = st.sampled_from(["developer", "operator", "observer"])


@st.composite
def worlds(draw: Any) -> dict:
    users = draw(st.integers(2, 3))
    orgs = draw(st.integers(0, 2))
    org_members = {o: draw(st.dictionaries(st.integers(0, users - 1), ORG_ROLES, max_size=users))
                   for o in range(orgs)}
    # fleets live in an extra org (index) or a user's personal org ("p<user>")
    owners = [f"o{o}" for o in range(orgs)] + [f"p{u}" for u in range(users)]
    fleets = draw(st.lists(st.sampled_from(owners), min_size=1, max_size=4))
    fleet_members = {f: draw(st.dictionaries(st.integers(0, users - 1), APP_ROLES, max_size=2))
                     for f in range(len(fleets))}
    return {"users": users, "orgs": orgs, "org_members": org_members, "fleets": fleets,
            "fleet_members": fleet_members}


def _get(client: Any, key: str, path: str) -> set:
    r = client.get(path, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    return {row["id"] for row in r.get_json()["d"]}


@SETTINGS
@given(worlds())
def test_reads_and_writes_match_the_model(world: dict) -> None:
    APP.cloud.reset()
    seed = BalenaSeeder(APP.cloud.backends["balena"], "http://fake")
    client = APP.test_client()
    users = [seed.user(f"user{u}") for u in range(world["users"])]
    orgs = [seed.organization(f"Org {o}", f"org{o}",
                              members={users[u]: role for u, role in world["org_members"][o].items()})
            for o in range(world["orgs"])]
    fleets, devices = [], []
    for n, owner in enumerate(world["fleets"]):
        org = orgs[int(owner[1:])]["id"] if owner[0] == "o" else users[int(owner[1:])].org["id"]
        fleet = seed.application(org, f"fleet{n}")
        fleets.append(fleet)
        devices.append(seed.device(fleet))
        for u, role in world["fleet_members"][n].items():
            role_id = seed.db.find("application_membership_role", name=role)[0]["id"]
            seed.db.insert("user_application_membership", {
                "user": users[u].id, "is_member_of__application": fleet["id"],
                "application_membership_role": role_id})
    public = {a["id"] for a in seed.db.tables["application"].values() if a["is_public"]}

    for u, user in enumerate(users):
        my_orgs = {user.org["id"]} | {orgs[o]["id"] for o in range(world["orgs"])
                                      if u in world["org_members"][o]}
        by_org = {f["id"] for f in fleets if f["organization"] in my_orgs}
        roles = {fleets[n]["id"]: role for n in range(len(fleets))
                 for m, role in world["fleet_members"][n].items() if m == u}
        readable = by_org | set(roles)
        writable = by_org | {a for a, role in roles.items() if role != "observer"}

        assert _get(client, user.api_key, "/v7/application") == readable | public
        accessible = _get(client, user.api_key,
                          "/v7/application?$filter=is_directly_accessible_by__user/any(d:1 eq 1)")
        assert accessible == readable
        assert _get(client, user.api_key, "/v7/device") == \
            {d["id"] for d in devices if d["belongs_to__application"] in readable}
        assert _get(client, user.api_key, "/v7/organization") == my_orgs

        for device in devices:
            note = f"by {user.username}"
            r = client.patch(f"/v7/device({device['id']})", json={"note": note},
                             headers={"Authorization": f"Bearer {user.api_key}"})
            stored = seed.db.get("device", device["id"])["note"]
            app_id = device["belongs_to__application"]
            if app_id in writable:
                assert r.status_code == 200 and stored == note
            elif app_id in readable:
                assert r.status_code == 401 and stored != note
            else:
                assert r.status_code == 200 and stored != note  # invisible: nothing matched
