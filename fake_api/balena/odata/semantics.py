"""What the operators and functions of ``$filter`` mean on Python values: SQL's NULL rules (as
pinejs runs filters in PostgreSQL), null-safe ``eq``/``ne``, truncating integer ``div``, and NULL
for anything that would overflow or fail."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Optional

from ..db import Context, format_date


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "num"
    if isinstance(value, str):
        return "str"
    return "other"


def compare(op: str, a: Any, b: Any) -> Optional[bool]:
    """One comparison with SQL NULL rules (``eq``/``ne`` null-safe); mismatched types are NULL."""
    if op in ("eq", "ne"):
        if a is None or b is None:
            same = a is None and b is None
        else:
            ka, kb = kind_of(a), kind_of(b)
            if ka != kb:
                return None
            same = a == b
        return same if op == "eq" else not same
    if a is None or b is None:
        return None
    ka = kind_of(a)
    if ka != kind_of(b) or ka == "other":
        return None
    if op == "lt":
        return a < b
    if op == "le":
        return a <= b
    if op == "gt":
        return a > b
    return a >= b


def arith(op: str, a: Any, b: Any) -> Any:
    """add sub mul div mod (NULL in, NULL out; dates plus/minus durations); an overflow or a
    domain error (``inf mod 1``) is NULL too."""
    try:
        return _arith(op, a, b)
    except (ArithmeticError, ValueError):
        return None


def _arith(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if isinstance(b, timedelta) and isinstance(a, str) and op in ("add", "sub"):
        try:
            moment = datetime.fromisoformat(a.replace("Z", "+00:00"))
            return format_date(moment + b if op == "add" else moment - b)
        except (ValueError, OverflowError):
            return None
    if kind_of(a) != "num" or kind_of(b) != "num":
        return None
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if b == 0:
        return None
    if op == "div":
        if isinstance(a, int) and isinstance(b, int):
            q = abs(a) // abs(b)
            return q if (a >= 0) == (b >= 0) else -q
        return a / b
    return math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else (
        abs(a) % abs(b) * (1 if a >= 0 else -1))


def _str(v: Any) -> Optional[str]:
    return v if isinstance(v, str) else None


def _date_part(value: Any, part: str) -> Any:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if part == "fractionalseconds":
        return moment.microsecond / 1_000_000
    if part == "date":
        return moment.date().isoformat()
    if part == "time":
        return moment.time().isoformat()
    return getattr(moment, part)


def call(name: str, args: list, ctx: Context) -> Any:
    """One function of the catalogue on evaluated arguments (NULL in, NULL out; an overflow
    such as ``floor(1e999)`` is NULL)."""
    try:
        return _call(name, args, ctx)
    except (ArithmeticError, ValueError):
        return None


def _call(name: str, args: list, ctx: Context) -> Any:
    if name == "now":
        return format_date(ctx.db.cloud.clock.now())
    if any(a is None for a in args):
        return None
    if name in ("contains", "startswith", "endswith", "substringof", "indexof", "concat"):
        s, t = _str(args[0]), _str(args[1])
        if s is None or t is None:
            return None
        if name == "contains":
            return t in s
        if name == "substringof":
            return s in t
        if name == "startswith":
            return s.startswith(t)
        if name == "endswith":
            return s.endswith(t)
        if name == "indexof":
            return s.find(t)
        return s + t
    if name in ("tolower", "toupper", "trim", "length"):
        s = _str(args[0])
        if s is None:
            return None
        return {"tolower": str.lower, "toupper": str.upper, "trim": str.strip,
                "length": len}[name](s)
    if name == "substring":
        s = _str(args[0])
        if s is None or any(kind_of(a) != "num" or isinstance(a, float) for a in args[1:]):
            return None
        start = max(args[1], 0)
        return s[start:] if len(args) == 2 else s[start:start + max(args[2], 0)]
    if name in ("round", "floor", "ceiling"):
        if kind_of(args[0]) != "num":
            return None
        return {"round": lambda x: math.floor(x + 0.5), "floor": math.floor,
                "ceiling": math.ceil}[name](args[0])
    if name == "totalseconds":
        return args[0].total_seconds() if isinstance(args[0], timedelta) else None
    return _date_part(args[0], name)
