"""How fast the RolloutMachine runs: N examples of a fleet of D devices (generation only).

    python bench/bench_property.py [examples] [devices] [poll seconds]

The machine is the docs' MemfaultCanary (memfault-cli in process) with every invariant but
``converges`` (whose 6 virtual hours per example would dominate), 10 steps per example.

Prints wall and process CPU seconds. The project's machine is shared with other helpers'
jobs, so CPU time is the honest figure.
"""

from __future__ import annotations

import sys
import time

from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

sys.path.insert(0, ".")
from tests.property.controllers import MemfaultCanary  # noqa: E402


def main() -> None:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    devices = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    poll = float(sys.argv[3]) if len(sys.argv) > 3 else 1800.0

    class Bench(MemfaultCanary):
        min_devices = max_devices = devices
        profile = MemfaultCanary.profile.with_(poll_interval=poll)
        checks = frozenset({"targets", "hardware", "halted", "monotonic", "no_downgrade"})

    wall, cpu = time.perf_counter(), time.process_time()
    run_state_machine_as_test(Bench, settings=settings(
        max_examples=examples, stateful_step_count=10, deadline=None, database=None,
        derandomize=True,
        phases=[Phase.generate]))
    print(f"{examples} examples x {devices} devices (poll every {poll:g} s): "
          f"{time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")


if __name__ == "__main__":
    main()
