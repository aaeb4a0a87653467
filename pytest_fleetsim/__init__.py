"""fleetsim's pytest plugin and its public, typed names.

``from pytest_fleetsim import FakeCloud, FaultRule, ...`` to annotate fixtures and helpers.
Importing this package imports nothing heavy: each name is loaded on first use (the fake itself
only when a name from it is asked for). The fixtures live in :mod:`pytest_fleetsim.plugin`,
registered through the ``pytest11`` entry point.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from fake_api.core import Clock, Cloud, FaultRule, Faults, Journal
    from fake_api.core.journal import Entry as JournalEntry
    from fake_api.scenarios import ScenarioError

    from ._shadow import FakeApiShadowed
    from .baseline import fleetsim_baseline
    from .cloud import VENDOR_HOSTS, Baseline, FakeCloud
    from .intercept import Interceptor, VendorHostBlocked
    from .plugin import FleetsimWarning, MemfaultCli, MemfaultCliError, MemfaultResult

#: public name -> (module, attribute); modules under ``fake_api`` are checked before import.
_EXPORTS = {
    "FakeCloud": (".cloud", "FakeCloud"),
    "Baseline": (".cloud", "Baseline"),
    "VENDOR_HOSTS": (".cloud", "VENDOR_HOSTS"),
    "Interceptor": (".intercept", "Interceptor"),
    "VendorHostBlocked": (".intercept", "VendorHostBlocked"),
    "fleetsim_baseline": (".baseline", "fleetsim_baseline"),
    "FleetsimWarning": (".plugin", "FleetsimWarning"),
    "MemfaultCli": (".plugin", "MemfaultCli"),
    "MemfaultCliError": (".plugin", "MemfaultCliError"),
    "MemfaultResult": (".plugin", "MemfaultResult"),
    "FakeApiShadowed": ("._shadow", "FakeApiShadowed"),
    "Clock": ("fake_api.core", "Clock"),
    "Cloud": ("fake_api.core", "Cloud"),
    "FaultRule": ("fake_api.core", "FaultRule"),
    "Faults": ("fake_api.core", "Faults"),
    "Journal": ("fake_api.core", "Journal"),
    "JournalEntry": ("fake_api.core.journal", "Entry"),
    "ScenarioError": ("fake_api.scenarios", "ScenarioError"),
}
_LIGHT = {".baseline", ".plugin", "._shadow"}

__all__ = [
    "VENDOR_HOSTS", "Baseline", "Clock", "Cloud", "FakeApiShadowed", "FakeCloud", "FaultRule",
    "Faults", "FleetsimWarning", "Interceptor", "Journal", "JournalEntry", "MemfaultCli",
    "MemfaultCliError", "MemfaultResult", "ScenarioError", "VendorHostBlocked", "__version__",
    "fleetsim_baseline",
]


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'pytest_fleetsim' has no attribute {name!r}") from None
    if module_name not in _LIGHT:
        from ._shadow import ensure_fake_api

        ensure_fake_api()
    module = importlib.import_module(module_name, __name__)
    value = getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
