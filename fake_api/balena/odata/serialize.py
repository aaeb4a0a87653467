"""Rows out: the selected columns of each row, links as the version's link form, and every
``$expand`` as a list (even for a to-one link) or, for ``nav/$count``, a number."""

from __future__ import annotations

from .query import Query, count, select
from .reader import Reader


def render(reader: Reader, q: Query, rows: list[dict]) -> list[dict]:
    """Serialise an already selected page of rows."""
    plain, extras, expands, decorate = q.plain_values(), q.extras, q.expands, reader.names.decorate
    name = q.res.name
    out = []
    for row in rows:
        item = plain(row)
        for key, get in extras:
            item[key] = get(row)
        for exp in expands:
            related = exp.related(row)
            if exp.count:
                item[exp.out] = count(reader, exp.query, related)
            else:
                item[exp.out] = render(reader, exp.query, select(reader, exp.query, related))
        decorate(name, item, row)
        out.append(item)
    return out
