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

A name without a path (``"fl33t-basic"``) is looked up in the shipped ``fixtures/`` folder; a
relative path is looked up in the ``search`` folders the caller gives (the pytest rootdir, the
ini file's folder...), an include relative to the file that names it.

Rules, the same for every dialect:

- **All or nothing**: a load that fails half-way leaves the state exactly as it was.
- **Loaded once**: a scenario (a shipped name, or a file by its resolved path) already loaded
  into this state is not loaded again, whether named directly or through ``include``; the load
  returns what it seeded the first time. Two *different* scenarios that seed the same object
  (the same fl33t team, the same Memfault release) are refused with a :class:`ScenarioError`.
- Over the control plane only shipped names are accepted (``allow_files=False``): a request
  cannot make the fake read a local file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Optional, Union

from .core import Cloud, FleetsimError

Source = Union[str, Path, dict]

_HERE = Path(__file__).resolve().parent
SCENARIO_DIRS = (_HERE / "_fixtures", _HERE.parent / "fixtures")
_SUFFIXES = (".json", ".yaml", ".yml")
_KEYS = {"fleetsim_scenario", "description", "seed", "clock", "include"}
#: Where the identities (and summaries) of the scenarios loaded into a state are kept.
LOADED_TABLE = "_core.scenarios"
MAX_DEPTH = 8


class ScenarioError(ValueError):
    """A scenario that cannot be found, read or loaded; the message says which and why."""


def available() -> list[str]:
    """Names of the scenarios shipped with fleetsim."""
    names = set()
    for folder in SCENARIO_DIRS:
        if folder.is_dir():
            names.update(p.stem for p in folder.iterdir() if p.suffix in _SUFFIXES)
    return sorted(names)


def descriptions() -> dict[str, str]:
    """Each shipped scenario's ``description`` (empty when it has none or cannot be read)."""
    out = {}
    for name in available():
        try:
            out[name] = str(read(name).get("description", ""))
        except ScenarioError:
            out[name] = ""
    return out


def _is_bare_name(text: str) -> bool:
    return Path(text).name == text and Path(text).suffix not in _SUFFIXES and text not in (".", "..")


def find(name_or_path: Union[str, Path], search: Iterable[Union[str, Path]] = (),
         allow_files: bool = True) -> Path:
    """The file of a shipped name, or of a path (relative ones are tried in each ``search``
    folder, then the current directory). The error says everywhere it looked."""
    text = str(name_or_path)
    if _is_bare_name(text):
        for folder in SCENARIO_DIRS:
            for suffix in _SUFFIXES:
                candidate = folder / f"{text}{suffix}"
                if candidate.is_file():
                    return candidate
        shipped = ", ".join(available()) or "(none)"
        raise ScenarioError(f"no scenario {text!r}: give a path to a .json/.yaml file or one of "
                            f"the shipped names: {shipped}")
    if not allow_files:
        raise ScenarioError(
            f"scenario {text!r} is a path: over the control plane only shipped names are "
            f"accepted ({', '.join(available())}); send the scenario itself as the request body, "
            "or load files with `fleetsim serve --scenario PATH` or from Python")
    path = Path(text).expanduser()
    if path.is_absolute():
        tried = [path]
    else:
        bases = [Path(b) for b in search] + [Path.cwd()]
        tried = list(dict.fromkeys((b / path).resolve() for b in bases))
    for candidate in tried:
        if candidate.is_file():
            if candidate.suffix not in _SUFFIXES:
                raise ScenarioError(f"scenario file {candidate} must end in .json, .yaml or .yml")
            return candidate
    raise ScenarioError(f"no scenario file {text!r}: looked for "
                        + ", ".join(str(t) for t in tried))


def read(source: Source, search: Iterable[Union[str, Path]] = (),
         allow_files: bool = True) -> dict[str, Any]:
    """The scenario as a dict, from a dict, a path or a shipped name."""
    return _read(source, tuple(search), allow_files)[0]


def _read(source: Source, search: tuple, allow_files: bool
          ) -> tuple[dict[str, Any], Optional[str], Optional[Path]]:
    """``(data, identity, folder)``: identity is the shipped name or the resolved path."""
    if isinstance(source, dict):
        return source, None, None
    if not isinstance(source, (str, Path)):
        raise ScenarioError(f"a scenario is a shipped name, a path or a dict, not {source!r}")
    path = find(source, search, allow_files)
    shipped = _is_bare_name(str(source))
    label = str(source) if shipped else str(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        parse: Any = json.loads
    else:
        try:
            import yaml
        except ImportError:
            raise ScenarioError(
                f"{path} is YAML but PyYAML is not installed (pip install 'fleetsim[yaml]')"
            ) from None
        parse = yaml.safe_load
    try:
        data = parse(text)
    except Exception as exc:  # json.JSONDecodeError or yaml.YAMLError
        raise ScenarioError(f"cannot parse scenario {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"scenario {label} must be an object with one section per dialect")
    return data, label, None if shipped else path.parent


def load(cloud: Cloud, source: Source, base_url: str, dialects: Any, *,
         search: Iterable[Union[str, Path]] = (), allow_files: bool = True) -> dict[str, Any]:
    """Write a scenario into ``cloud``, all or nothing; returns what each dialect seeded."""
    with cloud.store.lock:
        before = cloud.snapshot()
        try:
            summary = _Loader(cloud, base_url, dialects, allow_files).load(source, tuple(search), ())
        except BaseException:
            cloud.restore(before)
            raise
    return json.loads(json.dumps(summary))  # the caller's copy, not the recorded one


def loaded(cloud: Cloud) -> dict[str, Any]:
    """What every scenario loaded into this state seeded, by scenario (survives snapshots)."""
    return json.loads(json.dumps(dict(cloud.store.table(LOADED_TABLE))))


class _Loader:
    def __init__(self, cloud: Cloud, base_url: str, dialects: Any, allow_files: bool) -> None:
        self.cloud = cloud
        self.base_url = base_url
        self.by_name = {d.name: d for d in dialects}
        self.allow_files = allow_files
        self.done = cloud.store.table(LOADED_TABLE)

    def load(self, source: Source, search: tuple, chain: tuple) -> dict[str, Any]:
        data, identity, folder = _read(source, search, self.allow_files)
        label = identity or "(given as data)"
        if identity is not None and identity in self.done:
            return self.done[identity]
        if identity is not None and identity in chain:
            raise ScenarioError(f"scenario {identity} includes itself (through {' -> '.join(chain)})")
        if len(chain) >= MAX_DEPTH:
            raise ScenarioError(f"scenario includes nest deeper than {MAX_DEPTH} (at {label})")
        self._check(data, label)
        includes = data.get("include") or []
        includes = [includes] if isinstance(includes, str) else includes
        inner = ((folder,) if folder is not None else ()) + search
        summary: dict[str, Any] = {}
        for included in includes:
            _merge(summary, self.load(included, inner, chain + (identity or label,)))
        if "seed" in data:
            self.cloud.ids.seed = data["seed"]
        if "clock" in data and self.cloud.clock.virtual:
            try:
                self.cloud.clock.set(data["clock"])
            except (ValueError, TypeError, OverflowError) as exc:
                raise ScenarioError(f"scenario {label}: bad clock {data['clock']!r}: {exc}") from None
        for name, dialect in self.by_name.items():
            section = data.get(name)
            if section is None:
                continue
            if dialect.load_scenario is None or dialect.make_seeder is None:
                raise ScenarioError(f"scenario {label}: the {name} dialect cannot load scenarios yet")
            seeder = dialect.make_seeder(self.cloud.backends[name], self.base_url)
            try:
                _merge(summary, {name: dialect.load_scenario(seeder, section)})
            except ScenarioError as exc:
                raise ScenarioError(f"scenario {label}: {exc}") from None
            except FleetsimError as exc:
                raise ScenarioError(
                    f"scenario {label}: its {name} section cannot be loaded on this state: "
                    f"{exc.message} (a scenario is loaded once; two different scenarios must "
                    "not seed the same objects)") from None
            except (ValueError, KeyError, TypeError) as exc:
                raise ScenarioError(f"scenario {label}: bad {name} section: {exc!r}") from None
        if identity is not None:
            self.done[identity] = summary
        return summary

    def _check(self, data: dict, label: str) -> None:
        known = _KEYS | set(self.by_name)
        unknown = sorted(str(k) for k in set(data) - known)
        if unknown:
            raise ScenarioError(f"unknown scenario section(s) in {label}: {', '.join(unknown)}; "
                                f"sections are: {', '.join(sorted(known))}")
        includes = data.get("include") or []
        if isinstance(includes, str):
            includes = [includes]
        if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
            raise ScenarioError(f"scenario {label}: 'include' must be a scenario name or a list "
                                "of names")
        seed = data.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ScenarioError(f"scenario {label}: 'seed' must be an integer, not {seed!r}")
        if "clock" in data and not isinstance(data["clock"], str):
            raise ScenarioError(f"scenario {label}: 'clock' must be an ISO-8601 time, "
                                f"not {data['clock']!r}")


def _merge(into: dict[str, Any], more: dict[str, Any]) -> None:
    """Summaries of several scenarios, together: objects merge, lists concatenate."""
    for key, value in more.items():
        mine = into.get(key)
        if isinstance(mine, dict) and isinstance(value, dict):
            _merge(mine, value)
        elif isinstance(mine, list) and isinstance(value, list):
            into[key] = mine + value
        else:
            into[key] = json.loads(json.dumps(value)) if isinstance(value, (dict, list)) else value
