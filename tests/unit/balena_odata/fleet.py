"""A small balena fleet written straight through ``BalenaDb`` (no auth, no routes), shared by the
engine's unit tests."""

from __future__ import annotations

from fake_api.balena.db import BalenaDb
from fake_api.balena.pine import Pine
from fake_api.core.cloud import Cloud


def make_fleet(devices: int = 3):
    cloud = Cloud(seed=1)
    db = BalenaDb(cloud)
    ins = db.insert
    arm = ins("cpu_architecture", {"slug": "armv7hf"})
    a64 = ins("cpu_architecture", {"slug": "aarch64"})
    rpi3 = ins("device_type", {"slug": "raspberrypi3", "name": "Raspberry Pi 3",
                               "is_of__cpu_architecture": arm["id"]})
    rpi4 = ins("device_type", {"slug": "raspberrypi4-64", "name": "Raspberry Pi 4",
                               "is_of__cpu_architecture": a64["id"]})
    for dt in (rpi3, rpi4):
        ins("device_type_alias", {"device_type": dt["id"], "is_referenced_by__alias": dt["slug"]})
    org = ins("organization", {"name": "gh_user", "handle": "gh_user"})
    app = ins("application", {"app_name": "myfleet", "slug": "gh_user/myfleet", "uuid": "a" * 32,
                              "organization": org["id"], "is_for__device_type": rpi4["id"]})
    host = ins("application", {"app_name": "rpi4 host", "slug": "balena_os/raspberrypi4-64",
                               "uuid": "b" * 32, "organization": org["id"], "is_host": True,
                               "is_public": True, "is_for__device_type": rpi4["id"]})
    rel = ins("release", {"commit": "c" * 32, "status": "success", "belongs_to__application":
                          app["id"], "semver": "1.2.3", "semver_major": 1, "semver_minor": 2,
                          "semver_patch": 3, "raw_version": "1.2.3", "note": "it's"})
    rel2 = ins("release", {"commit": "d" * 32, "status": "failed", "belongs_to__application":
                           app["id"], "raw_version": "0.0.0"})
    svc = ins("service", {"application": app["id"], "service_name": "main"})
    img = ins("image", {"is_a_build_of__service": svc["id"], "status": "success",
                        "is_stored_at__image_location": "registry/x"})
    ins("release_image", {"image": img["id"], "is_part_of__release": rel["id"]})
    devs = []
    for i in range(devices):
        cloud.clock.advance(60)
        d = ins("device", {"uuid": f"{i:x}" * 62 if i < 16 else f"{i:062x}",
                           "device_name": f"dev{i}", "belongs_to__application": app["id"],
                           "is_of__device_type": rpi4["id"] if i % 2 else rpi3["id"],
                           "is_online": i % 2 == 1, "is_running__release": rel["id"],
                           "os_version": None if i == 0 else f"balenaOS 2.{i}.0"})
        ins("device_tag", {"device": d["id"], "tag_key": "rollout", "value": f"wave{i % 2}"})
        ins("image_install", {"device": d["id"], "installs__image": img["id"],
                              "is_provided_by__release": rel["id"], "status": "Running"})
        devs.append(d)
    return {"cloud": cloud, "db": db, "pine": Pine(db), "app": app, "host": host, "org": org,
            "rel": rel, "rel2": rel2, "svc": svc, "img": img, "devices": devs, "rpi4": rpi4}
