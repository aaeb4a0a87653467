"""Scenario files: ready-made state, declared in JSON (or YAML when PyYAML is installed).

A scenario is an object with one section per dialect, handed to that dialect's
``load_scenario(seeder, section)``, plus optional ``seed``, ``clock`` and ``include`` (other
scenarios, loaded first)::

    {
      "fleetsim_scenario": 1,
      "description": "one fl33t team with a beta fleet",
      "clock": "2026-01-01T00:00:00Z",
      "fl33t": {"teams": [...]},
      "memfault": {"projects": [...]}
    }

A name without a path (``"fl33t-basic"``) is looked up in the shipped ``fixtures/`` folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Union

from .core import Cloud

Source = Union[str, Path, dict]

_HERE = Path(__file__).resolve().parent
SCENARIO_DIRS = (_HERE / "_fixtures", _HERE.parent / "fixtures")
_SUFFIXES = (".json", ".yaml", ".yml")


class ScenarioError(ValueError):
    """A scenario that cannot be found or read; the message says which and why."""


def available() -> list[str]:
    """Names of the scenarios shipped with fleetsim."""
    names = set()
    for folder in SCENARIO_DIRS:
        if folder.is_dir():
            names.update(p.stem for p in folder.iterdir() if p.suffix in _SUFFIXES)
    return sorted(names)


def find(name_or_path: Union[str, Path]) -> Path:
    path = Path(name_or_path)
    if path.suffix in _SUFFIXES and path.is_file():
        return path
    if path.name == str(name_or_path):  # a bare name: look in the shipped fixtures
        for folder in SCENARIO_DIRS:
            for suffix in _SUFFIXES:
                candidate = folder / f"{name_or_path}{suffix}"
                if candidate.is_file():
                    return candidate
    shipped = ", ".join(available()) or "(none)"
    raise ScenarioError(
        f"no scenario {str(name_or_path)!r}: give a path to a .json/.yaml file or one of the "
        f"shipped names: {shipped}"
    )


def read(source: Source) -> dict[str, Any]:
    """The scenario as a dict, from a dict, a path or a shipped name."""
    if isinstance(source, dict):
        data: Any = source
    else:
        path = find(source)
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            parse: Any = json.loads
        else:
            try:
                import yaml
            except ImportError:
                raise ScenarioError(
                    f"{path} is YAML but PyYAML is not installed (pip install pyyaml)"
                ) from None
            parse = yaml.safe_load
        try:
            data = parse(text)
        except Exception as exc:  # json.JSONDecodeError or yaml.YAMLError
            raise ScenarioError(f"cannot parse scenario {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError("a scenario must be an object with one section per dialect")
    return data


def load(
    cloud: Cloud, source: Source, base_url: str, dialects: Any, _depth: int = 0
) -> dict[str, Any]:
    """Write a scenario into ``cloud``; returns what each dialect seeded (ids, credentials)."""
    data = read(source)
    by_name = {d.name: d for d in dialects}
    known = {"fleetsim_scenario", "description", "seed", "clock", "include"} | set(by_name)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScenarioError(
            f"unknown scenario section(s): {', '.join(unknown)}; "
            f"sections are: {', '.join(sorted(known))}"
        )
    summary: dict[str, Any] = {}
    with cloud.store.lock:
        includes = data.get("include") or []
        if isinstance(includes, str):
            includes = [includes]
        if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
            raise ScenarioError("'include' must be a scenario name or a list of names")
        for included in includes:
            if _depth >= 8:
                raise ScenarioError(f"scenario includes nest too deep (at {included!r})")
            summary.update(load(cloud, included, base_url, dialects, _depth=_depth + 1))
        if "seed" in data:
            cloud.ids.seed = int(data["seed"])
        if "clock" in data and cloud.clock.virtual:
            cloud.clock.set(data["clock"])
        for name, dialect in by_name.items():
            section = data.get(name)
            if section is None:
                continue
            if dialect.load_scenario is None or dialect.make_seeder is None:
                raise ScenarioError(f"the {name} dialect cannot load scenarios yet")
            seeder = dialect.make_seeder(cloud.backends[name], base_url)
            summary[name] = dialect.load_scenario(seeder, section)
    return summary
