"""API v5 on the wire (hand-written requests in the shapes balena-sdk 9.5 sends; the SDK itself
runs in its own virtualenv: tests/dialects/balena_v5)."""

from __future__ import annotations

from typing import Any


def test_v5_rows_links_and_quirks(fleetsim: Any, raw: Any, fleet: dict) -> None:
    device = fleetsim.balena.device(fleet)
    got = raw("GET", f"/v5/my_application?$filter=id%20eq%20'{fleet['id']}'").json()["d"]
    assert [a["id"] for a in got] == [fleet["id"]]  # quoted ids compare as numbers
    assert got[0]["__metadata"] == {"uri": f"/resin/application({fleet['id']})", "type": ""}
    assert got[0]["organization"]["__deferred"]["uri"].startswith("/resin/organization(")
    # options inside $expand separated by '&' (9.x), and the retired gateway_download expansion
    query = (f"$filter=uuid%20eq%20'{device['uuid']}'&$expand=image_install($select=id,status"
             "&$filter=status%20ne%20'deleted'),gateway_download($select=id&$filter=status%20ne"
             "%20'deleted')")
    (row,) = raw("GET", f"/v5/device?{query}").json()["d"]
    assert row["image_install"] == [] and row["gateway_download"] == []
    by_fleet = raw("GET", f"/v5/device?$filter=belongs_to__application%20eq%20'{fleet['id']}'")
    assert [d["id"] for d in by_fleet.json()["d"]] == [device["id"]]
    # v7-only names are unknown in v5, as in v6
    assert raw("GET", "/v5/device?$select=is_pinned_on__release").status_code == 400
    assert raw("GET", "/v5/device?$select=should_be_running__release").status_code == 200
    # a quoted non-number against a number is still a type error
    assert raw("GET", "/v5/device?$filter=id%20eq%20'abc'").status_code == 400
