"""Seeding once: build a large state once per module (or session, package, class) and give every
test a fresh copy of it. Imports only pytest."""

from __future__ import annotations

from typing import Any, Callable, Optional

import pytest

SCOPES = ("session", "package", "module", "class")
_cache_key = pytest.StashKey[dict]()


def _scope_id(request: pytest.FixtureRequest, scope: str) -> str:
    node_id = request.node.nodeid
    if scope == "session":
        return ""
    if scope == "package":
        return str(request.node.path.parent)
    module_id = node_id.split("::", 1)[0]
    if scope == "module" or request.cls is None:
        return module_id
    return f"{module_id}::{request.cls.__qualname__}"


def fleetsim_baseline(func: Optional[Callable[[Any], Any]] = None, *, scope: str = "module",
                      name: Optional[str] = None) -> Any:
    """Decorator: a fixture whose seeding runs once per ``scope``; each test gets a fresh copy.

    ``func(fleetsim)`` seeds the fake (any way: seeding helpers, scenarios, the official
    clients) and returns whatever the tests need to know (ids, tokens). The first test in the
    scope runs it; the state it leaves is kept, and every later test in the scope starts from a
    restored copy of that state, however the earlier tests changed it. The fixture's value is
    what ``func`` returned (one object shared by those tests: change the state, not it)::

        @fleetsim_baseline(scope="module")
        def big_fleet(fleetsim):
            team = fleetsim.fl33t.team()
            ...
            return team

        def test_one(fleetsim, big_fleet): ...
    """
    if scope not in SCOPES:
        raise ValueError(f"fleetsim_baseline scope must be one of {', '.join(SCOPES)}, not {scope!r}")

    def wrap(func: Callable[[Any], Any]) -> Any:
        fixture_name = name or func.__name__
        identity = (func.__module__, func.__qualname__, fixture_name)

        @pytest.fixture(name=fixture_name)
        def baseline_fixture(fleetsim: Any, request: pytest.FixtureRequest) -> Any:
            cache = request.config.stash.setdefault(_cache_key, {})
            where = _scope_id(request, scope)
            kept = cache.get(identity)
            if kept is not None and kept[0] == where:
                fleetsim.use_baseline(kept[1])
                return kept[1].value
            value = func(fleetsim)
            baseline = fleetsim.baseline()
            baseline.value = value
            fleetsim.cloud.journal.clear()  # every test starts with no journal and no faults
            fleetsim.cloud.faults.clear()
            cache[identity] = (where, baseline)  # one kept state per baseline: memory stays bounded
            return value

        baseline_fixture.__doc__ = func.__doc__
        return baseline_fixture

    return wrap(func) if func is not None else wrap
