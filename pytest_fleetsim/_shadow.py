"""The emulator is the top-level package ``fake_api``: make sure it is ours before using it."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

#: Where fleetsim installs its emulator: beside this plugin package.
OURS = Path(__file__).resolve().parent.parent / "fake_api"


class FakeApiShadowed(ImportError):
    """Another package called ``fake_api`` hides fleetsim's emulator."""


def ensure_fake_api() -> None:
    """Import ``fake_api`` and check it is fleetsim's; raise :class:`FakeApiShadowed` saying
    exactly what happened and what to do when another one was found first."""
    try:
        module = importlib.import_module("fake_api")
    except ImportError as exc:
        raise FakeApiShadowed(f"fleetsim cannot import its emulator package fake_api: {exc}") from exc
    found = getattr(module, "__file__", None)
    where = Path(found).resolve().parent if found else None
    if where == OURS and hasattr(module, "__version__"):
        return
    origin = str(where) if where is not None else repr(module)
    raise FakeApiShadowed(
        f"fleetsim's emulator is the top-level package `fake_api`, installed at {OURS}, but "
        f"`import fake_api` found another one: {origin}. A package or module named fake_api in "
        "your project comes first on sys.path (pytest puts your test folders and rootdir there) "
        "and hides fleetsim's.\n"
        "What to do: rename your package (for example to `myproject_fake_api`), or keep its "
        "folder off sys.path (run pytest with `--import-mode=importlib`, or move it under a "
        "package of your own).\n"
        f"sys.path begins with: {sys.path[:4]}"
    )
