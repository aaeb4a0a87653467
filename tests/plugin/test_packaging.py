"""What a package index and pip see: extras by vendor, a true Python floor, links that work."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_extras_per_vendor_and_a_test_extra_of_our_own():
    extras = PROJECT["optional-dependencies"]
    assert extras["fl33t"] == ["fl33t==0.6.2"]
    assert [d.split(">")[0] for d in extras["memfault"]] == ["memfault-cli"]
    assert [d.split(">")[0] for d in extras["balena"]] == ["balena-sdk"]
    assert [d.split(">")[0] for d in extras["yaml"]] == ["pyyaml"]
    assert extras["all"] == ["fleetsim[fl33t,memfault,balena,yaml]"]
    assert "fleetsim[all]" in extras["test"]
    for vendor in ("fl33t", "memfault", "balena", "yaml"):   # one client per extra, no test tools
        assert not any(t in d for d in extras[vendor] for t in ("hypothesis", "xdist", "pytest"))


def test_the_plugin_depends_on_pytest_and_claims_a_python_it_installs_on():
    assert any(d.startswith("pytest>=") for d in PROJECT["dependencies"])
    assert PROJECT["requires-python"] == ">=3.10"   # memfault-cli 1.12 needs 3.10
    assert "Programming Language :: Python :: 3.9" not in PROJECT["classifiers"]


def test_licence_urls_and_classifiers():
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(PROJECT["urls"])
    for classifier in ("Framework :: Pytest", "License :: OSI Approved :: MIT License",
                       "Development Status :: 3 - Alpha", "Typing :: Typed",
                       "Programming Language :: Python :: 3.10"):
        assert classifier in PROJECT["classifiers"]


def test_readme_links_work_on_a_package_index_page():
    links = re.findall(r"\]\(([^)]+)\)", (ROOT / "README.md").read_text())
    assert links
    relative = [link for link in links if not re.match(r"https?://", link)]
    assert relative == []


def test_both_packages_ship_py_typed():
    assert (ROOT / "pytest_fleetsim" / "py.typed").is_file()
    assert (ROOT / "fake_api" / "py.typed").is_file()
