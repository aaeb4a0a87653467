"""What a downstream suite feels: 200 tests with and without the ``fleetsim`` fixture.

Run by hand: ``python bench/bench_suite.py``. Prints wall times and the per-test overhead.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

N = 200

BODIES = {
    "no fixture": "def test_{i}():\n    assert True\n",
    "fleetsim (reset only)": "def test_{i}(fleetsim):\n    assert fleetsim.seed == 0\n",
    "fleetsim + seed a fl33t team + 1 API call": (
        "import requests\n"
        "def test_{i}(fleetsim):\n"
        "    team = fleetsim.fl33t.team()\n"
        "    r = requests.get(fleetsim.url + f'/team/{{team.team_id}}/devices',\n"
        "                     headers={{'Authorization': 'Bearer ' + team.tokens['admin']}})\n"
        "    assert r.status_code == 200\n"
    ),
}


def run(body: str, *args: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "test_many.py"
        path.write_text("\n".join(body.format(i=i) for i in range(N)))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(path)],
                       check=True, capture_output=True, cwd=tmp)
        return time.perf_counter() - start


def main() -> None:
    print(f"{N} tests per run, python {sys.version.split()[0]}")
    baseline = None
    for label, body in BODIES.items():
        wall = min(run(body) for _ in range(3))
        baseline = wall if baseline is None else baseline
        extra = (wall - baseline) / N * 1000
        print(f"{label:<45} {wall:6.2f} s   ({extra:+.2f} ms per test over no fixture)")


if __name__ == "__main__":
    main()
