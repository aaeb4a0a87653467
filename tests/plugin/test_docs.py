"""Every ```python test block in README.md and docs/ runs as a downstream test file."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```python test\n(.*?)```", re.S)


def _blocks():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for n, code in enumerate(BLOCK.findall(page.read_text(encoding="utf-8")), 1):
            yield pytest.param(code, id=f"{page.name}-{n}")


@pytest.mark.parametrize("code", list(_blocks()))
def test_documented_example_runs(pytester, code):
    pytester.makepyfile(code)
    result = pytester.runpytest("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and not outcomes.get("failed") and not outcomes.get("errors"), \
        result.stdout.str()
