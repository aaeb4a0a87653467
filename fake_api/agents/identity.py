"""Device identities that look like a real fleet's, all derived from the simulation's seed.

* serials ``<PREFIX><YYWW><index>``: a production lot (year and week) and a running number;
* MAC addresses allocated in sequence from one vendor OUI block, as a factory allocates them;
* names derived from the MAC's last three bytes (``sensor-3fa2b1``), as many device OSes do;
* hardware revisions drawn with the given weights;
* owners (customers) and sites (real places on land, with coordinates and time zone) from
  Faker, shared by many devices the way customers and sites own many devices.

Faker is an optional dependency (``pip install "fleetsim[sim]"``) and is imported only here, on
the first spawn: its pytest plugin costs every pytest start of every user (measured in
docs/simulation.md), so users who never simulate devices do not pay for it.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Optional, Sequence, Union

#: A locally administered OUI (bit 1 of the first byte set): never a real vendor's block.
DEFAULT_OUI = "02:5e:e7"

HardwareSpec = Union[str, Sequence[str], Mapping[str, float]]


class MissingDependency(ImportError):
    """An optional dependency is needed for this feature."""


@dataclass(frozen=True)
class DeviceIdentity:
    index: int
    serial: str
    mac: str
    name: str
    hardware: str
    owner: str
    owner_ref: str
    site: str
    country: str
    latitude: float
    longitude: float
    timezone: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _faker(seed: int) -> Any:
    try:
        from faker import Faker
    except ImportError:
        raise MissingDependency(
            'simulated devices need Faker for their identities: pip install "fleetsim[sim]"'
        ) from None
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return fake


def _hardware_table(hardware: HardwareSpec) -> tuple[list[str], list[float]]:
    if isinstance(hardware, str):
        return [hardware], [1.0]
    if isinstance(hardware, Mapping):
        names, weights = list(hardware), [float(w) for w in hardware.values()]
    else:
        names, weights = list(hardware), [1.0] * len(hardware)
    if not names or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("hardware must name at least one revision, with non-negative weights")
    return names, weights


def _slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    return "-".join(p for p in out.split("-") if p)[:60] or "owner"


def make_identities(count: int, seed: int, *, start: int = 0, prefix: str = "SN",
                    name_prefix: str = "device", hardware: HardwareSpec = "evt",
                    oui: str = DEFAULT_OUI, owners: Optional[int] = None,
                    sites: Optional[int] = None) -> list[DeviceIdentity]:
    """``count`` identities numbered from ``start``; the same arguments give the same list."""
    if count < 0:
        raise ValueError("count must not be negative")
    names, weights = _hardware_table(hardware)
    rng = random.Random(f"fleetsim-identities:{seed}:{prefix}")
    fake = _faker(rng.randrange(2**31))
    owner_pool = []
    for _ in range(owners or max(1, min(2000, count // 25 + 1))):
        company = fake.company()
        owner_pool.append((company, _slug(company)))
    site_pool = [fake.location_on_land() for _ in range(sites or max(1, min(500, count // 50 + 1)))]
    oui_bytes = [int(b, 16) for b in oui.split(":")]
    mac_base = rng.randrange(2**24 - count - start) if count + start < 2**24 else 0
    year = 20 + rng.randrange(5)
    out = []
    for i in range(start, start + count):
        lot_week = 1 + (i // 1000 + rng.randrange(3)) % 52
        tail = (mac_base + i) % 2**24
        mac_bytes = oui_bytes + [tail >> 16, (tail >> 8) & 0xFF, tail & 0xFF]
        mac = ":".join(f"{b:02x}" for b in mac_bytes)
        owner, owner_ref = owner_pool[rng.randrange(len(owner_pool))]
        lat, lon, place, country, tz = site_pool[rng.randrange(len(site_pool))]
        out.append(DeviceIdentity(
            index=i,
            serial=f"{prefix}{year:02d}{lot_week:02d}{i:06d}",
            mac=mac,
            name=f"{name_prefix}-{tail:06x}",
            hardware=rng.choices(names, weights)[0],
            owner=owner,
            owner_ref=owner_ref,
            site=place,
            country=country,
            latitude=float(lat),
            longitude=float(lon),
            timezone=tz,
        ))
    return out
