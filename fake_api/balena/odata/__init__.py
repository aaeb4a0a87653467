"""The pinejs/OData engine: tokenizer -> parser (AST) -> compiled query -> rows -> serialised rows.

Generic over ``schema.py``: a resource added later needs a schema entry, not engine code.
"""

from .ast import Options, Target
from .errors import ODataError
from .parser import parse_filter, parse_query, parse_target
from .query import Query, compile_query, count, key_rows, select
from .reader import Names, Reader
from .serialize import render

__all__ = [
    "Names", "ODataError", "Options", "Query", "Reader", "Target", "compile_query", "count",
    "key_rows", "parse_filter", "parse_query", "parse_target", "render", "select",
]
