"""Seeding helpers for tests (``fleetsim.fl33t``) and the loader of scenario files.

Everything here goes through the same backend methods as the API (as an internal admin), so
seeded state obeys the same rules and has the same shape as state made by the client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

from .auth import PRIVILEGES
from .models import SYSTEM, Fl33tBackend

#: The tokens every seeded team gets, one per privilege (device tokens belong to devices).
TEAM_PRIVILEGES = ("admin", "readonly", "upload", "provisioning")

Ref = Union[str, dict, Any]


@dataclass
class Team:
    """A seeded team: ``team_id`` and ``tokens`` (privilege name -> session token)."""

    team_id: str
    name: str
    tokens: dict[str, str] = field(default_factory=dict)
    base_url: str = ""

    def client(self, privilege: str = "admin", base_uri: Optional[str] = None) -> Any:
        """An official ``fl33t.Fl33tClient`` for this team with one of its tokens."""
        import fl33t

        token = self.tokens.get(privilege, privilege)
        return fl33t.Fl33tClient(self.team_id, token, base_uri=base_uri or self.base_url)


def _id(ref: Ref, name: str) -> str:
    """An id from an id string, a dict view, a Team or an fl33t client model."""
    if isinstance(ref, str):
        return ref
    if isinstance(ref, dict):
        return ref[name]
    return getattr(ref, name)


class Fl33tSeeder:
    """Writes fl33t state straight into the fake: teams with tokens, trains, builds, fleets,
    devices. Methods return what the API would return for the object (plain dicts)."""

    def __init__(self, backend: Fl33tBackend, base_url: str) -> None:
        self.backend = backend
        self.base_url = base_url.rstrip("/")

    def team(self, team_id: Optional[str] = None, name: Optional[str] = None,
             tokens: Optional[dict[str, str]] = None) -> Team:
        """A team with one api session per privilege in :data:`TEAM_PRIVILEGES`.

        ``tokens`` may fix some tokens (``{"admin": "tok-admin"}``); others come from the seed.
        """
        given = dict(tokens or {})
        unknown = sorted(set(given) - set(TEAM_PRIVILEGES))
        if unknown:
            raise ValueError(f"tokens can only be given for {', '.join(TEAM_PRIVILEGES)}; "
                             f"not {', '.join(unknown)}")
        with self.backend.lock:
            record = self.backend.create_team(team_id, name)
            team = Team(record["team_id"], record["name"], base_url=self.base_url)
            for privilege in TEAM_PRIVILEGES:
                team.tokens[privilege] = self.session(team, privilege, name=privilege,
                                                      token=given.pop(privilege, None))
        return team

    def session(self, team: Ref, privilege: str = "readonly", *, name: Optional[str] = None,
                token: Optional[str] = None, type: str = "api") -> str:
        """A new session token with one privilege (or ``"none"`` for an unprivileged one)."""
        if privilege not in PRIVILEGES and privilege != "none":
            raise ValueError(f"privilege must be one of {', '.join(PRIVILEGES)} or 'none'")
        body = {"session": {"name": name or privilege, "type": type, privilege: True}}
        with self.backend.lock:
            made = self.backend.create_session(SYSTEM, _id(team, "team_id"), body, token=token)
        return made["session"]["session_token"]

    def train(self, team: Ref, name: str = "main", *, train_id: Optional[str] = None) -> dict:
        with self.backend.lock:
            made = self.backend.create_train(SYSTEM, _id(team, "team_id"),
                                             {"train": {"name": name}}, train_id=train_id)
        return made["train"]

    def build(self, team: Ref, train: Ref, version: str = "1.0.0", *,
              data: Optional[bytes] = None, released: bool = False,
              filename: str = "firmware.bin", md5sum: Optional[str] = None,
              build_id: Optional[str] = None, upload: bool = True) -> dict:
        """A build whose file is already uploaded (status ``available``), unless ``upload`` is
        false (status ``created``). ``data`` defaults to a few bytes naming the version; a
        ``md5sum`` that does not match ``data`` gives a ``failed`` build."""
        team_id = _id(team, "team_id")
        body = {"build": {"train_id": _id(train, "train_id"), "version": version,
                          "released": released, "filename": filename, "md5sum": md5sum}}
        with self.backend.lock:
            made = self.backend.create_build(SYSTEM, team_id, body, self.base_url,
                                             build_id=build_id)["build"]
            if upload:
                if data is None:
                    data = f"fl33t firmware {version}\n".encode()
                record = self.backend.builds[f"{team_id}/{made['build_id']}"]
                self.backend.receive_upload(team_id, made["build_id"], self._upload_args(made),
                                            data, filename)
                made = self.backend.build_view(record, self.base_url)
        return made

    @staticmethod
    def _upload_args(build: dict) -> dict[str, str]:
        from urllib.parse import parse_qsl, urlsplit

        return dict(parse_qsl(urlsplit(build["upload_url"]).query))

    def fleet(self, team: Ref, train: Ref, name: str = "fleet", *, build: Optional[Ref] = None,
              unreleased: bool = False, fleet_id: Optional[str] = None) -> dict:
        """A fleet on ``train``; ``build`` pins it, otherwise it auto-updates (see docs)."""
        body = {"fleet": {"train_id": _id(train, "train_id"), "name": name,
                          "build_id": _id(build, "build_id") if build is not None else None,
                          "unreleased": unreleased}}
        with self.backend.lock:
            made = self.backend.create_fleet(SYSTEM, _id(team, "team_id"), body,
                                             fleet_id=fleet_id)
        return made["fleet"]

    def device(self, team: Ref, fleet: Ref, device_id: Optional[str] = None, *,
               name: Optional[str] = None, token: Optional[str] = None,
               installed: Optional[Ref] = None) -> dict:
        """A device (with its device session token). ``installed`` records a check-in reporting
        that build, as if the device had already called home."""
        team_id = _id(team, "team_id")
        with self.backend.lock:
            if device_id is None:
                device_id = self.backend.ids.alnum("fl33t.device", 6)
            body = {"device": {"device_id": device_id, "fleet_id": _id(fleet, "fleet_id"),
                               "name": name or device_id}}
            made = self.backend.create_device(SYSTEM, team_id, body, token=token)["device"]
            if installed is not None:
                self.backend.checkin(SYSTEM, team_id, device_id,
                                     {"checkin": {"build_id": _id(installed, "build_id")}},
                                     self.base_url)
                made = self.backend.get_device(SYSTEM, team_id, device_id)["device"]
        return made

    def devices(self, team: Ref, fleet: Ref, count: int, *, prefix: str = "dev-") -> list[dict]:
        """``count`` devices named ``<prefix>0000``, ``<prefix>0001``, ..."""
        return [self.device(team, fleet, f"{prefix}{i:04d}") for i in range(count)]

    def rollout(self, team: Ref, fleet: Ref) -> dict[str, Any]:
        """Rollout reporting of a fleet: size, target build, what devices last reported."""
        with self.backend.lock:
            return self.backend.rollout(_id(team, "team_id"), _id(fleet, "fleet_id"))

    def pin(self, kind: str, *values: str) -> None:
        """Make the next generated ids of ``kind`` (train, build, fleet, session,
        device_session, team) be ``values``."""
        self.backend.ids.pin(f"fl33t.{kind}", *values)


def load_scenario(seeder: Fl33tSeeder, section: Any) -> dict:
    """Seed a scenario's ``"fl33t"`` section; returns ids and credentials per team.

    Format: ``{"teams": [{"team_id", "name", "tokens": {privilege: token}, "trains": [{"train_id",
    "name"}], "builds": [{"build_id", "train", "version", "released", "content", "filename"}],
    "fleets": [{"fleet_id", "train", "name", "build", "unreleased"}], "devices": [{"device_id",
    "fleet", "name", "installed", "session_token"} or {"fleet", "count", "prefix"}]}]}``.
    References (``train``, ``build``, ``fleet``) name an id or a name given earlier in the team.
    """
    if not isinstance(section, dict) or not isinstance(section.get("teams", []), list):
        raise ValueError('the fl33t section must be {"teams": [...]}')
    summary: dict[str, Any] = {"teams": {}}
    for spec in section.get("teams", []):
        team = seeder.team(spec.get("team_id"), spec.get("name"), spec.get("tokens"))
        names: dict[str, dict[str, str]] = {"train": {}, "build": {}, "fleet": {}}

        def ref(kind: str, value: Optional[str], names: dict = names) -> Optional[str]:
            return None if value is None else names[kind].get(value, value)

        out: dict[str, Any] = {"team_id": team.team_id, "tokens": dict(team.tokens),
                               "trains": {}, "builds": {}, "fleets": {}, "devices": {}}
        for item in spec.get("trains", []):
            made = seeder.train(team, item.get("name", "main"), train_id=item.get("train_id"))
            names["train"][made["name"]] = out["trains"][made["name"]] = made["train_id"]
        for item in spec.get("builds", []):
            content = item.get("content")
            made = seeder.build(
                team, ref("train", item["train"]), str(item.get("version", "1.0.0")),
                data=content.encode() if isinstance(content, str) else None,
                released=bool(item.get("released", False)), build_id=item.get("build_id"),
                filename=item.get("filename", "firmware.bin"), md5sum=item.get("md5sum"))
            label = item.get("name") or made["version"]
            names["build"][label] = out["builds"][label] = made["build_id"]
        for item in spec.get("fleets", []):
            made = seeder.fleet(team, ref("train", item["train"]), item.get("name", "fleet"),
                                build=ref("build", item.get("build")),
                                unreleased=bool(item.get("unreleased", False)),
                                fleet_id=item.get("fleet_id"))
            names["fleet"][made["name"]] = out["fleets"][made["name"]] = made["fleet_id"]
        for item in spec.get("devices", []):
            fleet = ref("fleet", item["fleet"])
            if "count" in item:
                made_all = seeder.devices(team, fleet, int(item["count"]),
                                          prefix=item.get("prefix", f"{fleet}-"))
            else:
                made_all = [seeder.device(team, fleet, item.get("device_id"),
                                          name=item.get("name"), token=item.get("session_token"),
                                          installed=ref("build", item.get("installed")))]
            for made in made_all:
                out["devices"][made["device_id"]] = made["session_token"]
        summary["teams"][team.team_id] = out
    return summary
