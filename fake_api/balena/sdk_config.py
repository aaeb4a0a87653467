"""Point an unmodified balena-sdk program at a fake through the SDK's own ``balena.cfg``.

The SDK recomputes ``api_endpoint`` as ``https://api.<balena_host>/`` in its constructor, so no
constructor setting reaches ``http://127.0.0.1:PORT``. But when ``<data_directory>/balena.cfg``
holds *every* setting key, the file-storage provider takes each value from the file (except
``api_version``), and ``Balena()`` then talks to the fake (reference §1, verified). This module
writes that file; ``fleetsim balena-cfg`` calls it.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path
from typing import Optional, Union


def default_directory() -> Path:
    """Where ``Balena()`` looks: ``$BALENA_SETTINGS_HOME_DIRECTORY/.balena`` or ``~/.balena``."""
    home = os.environ.get("BALENA_SETTINGS_HOME_DIRECTORY") or os.path.expanduser("~")
    return Path(home) / ".balena"


def settings_for(base_url: str, data_directory: Union[str, Path]) -> dict[str, str]:
    """Every key the SDK requires in ``balena.cfg``, with the fake's URL for the endpoints."""
    base = base_url.rstrip("/") + "/"
    directory = str(data_directory)
    return {
        "balena_host": "balena-cloud.com",
        "api_version": "v7",
        "device_actions_endpoint_version": "v1",
        "image_cache_time": str(1000 * 60 * 60 * 24 * 7),
        "token_refresh_interval": str(1000 * 60 * 60),
        "timeout": str(30 * 1000),
        "request_limit_interval": "60",
        "retry_rate_limited_request": "false",
        "data_directory": directory,
        "cache_directory": os.path.join(directory, "cache"),
        "builder_url": base,
        "api_endpoint": base,
        "pine_endpoint": base + "v7/",
    }


def write_balena_cfg(base_url: str, data_directory: Optional[Union[str, Path]] = None) -> Path:
    """Write ``balena.cfg`` so that ``Balena()`` (file settings) talks to ``base_url``; keeps
    a ``token`` already in the file. Returns the file's path."""
    directory = Path(data_directory) if data_directory is not None else default_directory()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "balena.cfg"
    config = configparser.ConfigParser()
    if path.is_file():
        config.read(path)
    if not config.has_section("Settings"):
        config.add_section("Settings")
    for key, value in settings_for(base_url, directory).items():
        config.set("Settings", key, value)
    with path.open("w", encoding="utf-8") as handle:
        config.write(handle)
    return path
