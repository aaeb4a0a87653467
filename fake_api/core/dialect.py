"""What the app needs to know about a dialect, without the core knowing any dialect."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Callable, Optional

# (status, message, exception or None) -> (body: dict | str | bytes, headers)
ErrorRenderer = Callable[[int, str, Optional[BaseException]], "tuple[Any, dict[str, str]]"]


@dataclass(frozen=True)
class Dialect:
    """One vendor API mounted on the app.

    ``paths`` is a regex matched at the start of a request path; ``hosts`` are the vendor's real
    host names (``*`` globs allowed) that intercept mode routes into the app.
    """

    name: str
    paths: str
    hosts: tuple[str, ...]
    make_backend: Callable[[Any], Any]
    make_blueprint: Callable[[Any], Any]
    render_error: ErrorRenderer
    make_seeder: Optional[Callable[[Any, str], Any]] = None
    load_scenario: Optional[Callable[[Any, Any], dict]] = None
    #: ``True``: a path with ``//`` is served as if the slashes were one (the app rewrites it);
    #: ``False``: it only matches routes written with ``//`` (else a 404 in this dialect's format).
    merge_slashes: bool = False
    _paths_re: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_paths_re", re.compile(self.paths))

    def owns_path(self, path: str) -> bool:
        return self._paths_re.match(path) is not None

    def owns_host(self, host: str) -> bool:
        host = host.split(":", 1)[0].lower()
        return any(fnmatchcase(host, pattern) for pattern in self.hosts)
