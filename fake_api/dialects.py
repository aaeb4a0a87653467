"""The dialects this app serves. Adding a vendor means adding one line here."""

from __future__ import annotations

from .balena import DIALECT as BALENA
from .control import DIALECT as CONTROL
from .fl33t import DIALECT as FL33T
from .memfault import DIALECT as MEMFAULT

DIALECTS = (BALENA, FL33T, MEMFAULT)

__all__ = ["BALENA", "CONTROL", "DIALECTS", "FL33T", "MEMFAULT", "by_name"]


def by_name(name: str):
    for dialect in DIALECTS:
        if dialect.name == name:
            return dialect
    known = ", ".join(d.name for d in DIALECTS)
    raise KeyError(f"unknown dialect {name!r}; fleetsim knows: {known}")
