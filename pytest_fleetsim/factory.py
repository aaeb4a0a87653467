"""Fresh fakes per hypothesis example: ``fleetsim_factory`` and :func:`shared_factory`.

Why not the ``fleetsim`` fixture under ``@given``: pytest sets a function-scoped fixture up once
per *test*, while hypothesis runs the test body once per *example*, so every example would share
(and dirty) one fake; hypothesis refuses that with its ``function_scoped_fixture`` health check.
The supported way is a session-scoped factory whose :meth:`FleetsimFactory.fresh` resets the
session's one fake at the start of each example. A reset empties tables, rewinds the virtual
clock, clears faults and the journal and re-seeds the ids: about 80 microseconds, so it fits
inside hypothesis's deadline with room to spare (no app or server is rebuilt).

Outside pytest fixtures (a ``RuleBasedStateMachine.TestCase`` gets none), :func:`shared_factory`
gives a process-wide factory with its own fake.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Optional

from .cloud import FakeCloud, Runtime


class FleetsimFactory:
    """Makes a :class:`~pytest_fleetsim.cloud.FakeCloud` on fresh state, once per example."""

    def __init__(self, runtime: Runtime, seed: int = 0) -> None:
        self.runtime = runtime
        self.seed = seed

    @contextlib.contextmanager
    def fresh(self, seed: Optional[int] = None, intercept: bool = False) -> Iterator[FakeCloud]:
        """A handle on the reset fake (seeded with ``seed``), closed when the block ends.

        Handles made by ``fresh`` share the fake: do not nest them, and do not mix them with
        the ``fleetsim`` fixture in one test.
        """
        handle = self.open(seed, intercept)
        try:
            yield handle
        finally:
            handle.close()

    __call__ = fresh

    def open(self, seed: Optional[int] = None, intercept: bool = False) -> FakeCloud:
        """Like :meth:`fresh` without the ``with``: the caller closes the handle."""
        handle = FakeCloud(self.runtime)
        handle.reset(seed=self.seed if seed is None else seed)
        if intercept:
            handle.enter(handle.intercept())
        return handle

    @property
    def url(self) -> str:
        """The live server's base URL (started on first use)."""
        return self.runtime.url


_shared: Optional[FleetsimFactory] = None


def shared_factory() -> FleetsimFactory:
    """One factory (one fake, one lazily started server) for the whole process."""
    global _shared
    if _shared is None:
        _shared = FleetsimFactory(Runtime())
    return _shared


def close_shared() -> None:
    """Stop the shared factory's server, if it was started."""
    global _shared
    if _shared is not None:
        _shared.runtime.close()
        _shared = None
