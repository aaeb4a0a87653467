"""``fleetsim serve``: the fake as a standalone server for local, offline development."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from . import __version__, scenarios


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fleetsim",
        description="A fake cloud for IoT fleet management and OTA updates (balena, fl33t, Memfault).",
    )
    parser.add_argument("--version", action="version", version=f"fleetsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the fake cloud as a local HTTP server")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=5055, help="port (default 5055; 0 picks a free one)")
    serve.add_argument("--seed", type=int, default=0, help="seed for ids, tokens and random choices")
    serve.add_argument("--scenario", action="append", metavar="NAME_OR_PATH",
                       help="scenario to load at start (repeatable; default: 'default'); "
                            f"shipped: {', '.join(scenarios.available())}")
    serve.add_argument("--empty", action="store_true", help="start with no scenario at all")
    serve.add_argument("--state", type=Path, metavar="FILE",
                       help="load state from FILE at start if it exists, save it there on shutdown")
    serve.add_argument("--virtual-clock", action="store_true",
                       help="freeze time; move it with POST /__fleetsim__/clock (default: real time)")

    sub.add_parser("scenarios", help="list the shipped scenarios")

    cfg = sub.add_parser("balena-cfg", help="write balena.cfg so that an unmodified balena-sdk "
                                            "program (Balena()) talks to a fleetsim server")
    cfg.add_argument("--url", default="http://127.0.0.1:5055",
                     help="the fleetsim server (default http://127.0.0.1:5055)")
    cfg.add_argument("--dir", type=Path, default=None, metavar="DATA_DIRECTORY",
                     help="the SDK's data directory (default $BALENA_SETTINGS_HOME_DIRECTORY/.balena "
                          "or ~/.balena)")

    from . import demo

    demo.add_arguments(sub.add_parser(
        "demo", help="a simulated fleet going through a staged rollout, in one command"))
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "demo":
        from . import demo

        return demo.run(args)
    if args.command == "scenarios":
        for name in scenarios.available():
            print(name)
        return 0
    if args.command == "balena-cfg":
        from .balena.sdk_config import write_balena_cfg

        print(f"fleetsim: wrote {write_balena_cfg(args.url, args.dir)}")
        return 0
    _parser().print_help()
    return 2


def serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from .app import create_app
    from .core import Clock, Cloud

    cloud = Cloud(seed=args.seed, clock=Clock(virtual=args.virtual_clock))
    app = create_app(cloud)
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except OSError as exc:
        print(f"fleetsim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    url = f"http://{args.host}:{server.port}"

    seeded: dict[str, Any] = {}
    try:
        if args.state is not None and args.state.is_file():
            cloud.restore(json.loads(args.state.read_text(encoding="utf-8")))
            print(f"fleetsim: state loaded from {args.state}")
        elif not args.empty:
            for name in args.scenario or ["default"]:
                seeded[name] = scenarios.load(cloud, name, url, app.dialects)
    except (scenarios.ScenarioError, ValueError) as exc:
        print(f"fleetsim: {exc}", file=sys.stderr)
        server.server_close()
        return 1

    print(f"fleetsim {__version__} serving on {url}", flush=True)
    print(f"  dialects: {', '.join(d.name for d in app.dialects)}")
    print(f"  control plane: {url}/__fleetsim__/  (health: {url}/__fleetsim__/health)")
    print(f"  clock: {'virtual' if cloud.clock.virtual else 'real'}, seed {cloud.seed}")
    if seeded:
        print("  seeded credentials:")
        print("    " + json.dumps(seeded, indent=2).replace("\n", "\n    "))
    _print_balena_hints(url, seeded)
    print("Press Ctrl+C to stop.", flush=True)

    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if args.state is not None:
            args.state.parent.mkdir(parents=True, exist_ok=True)
            args.state.write_text(json.dumps(cloud.snapshot()), encoding="utf-8")
            print(f"fleetsim: state saved to {args.state}", flush=True)
    return 0


def _print_balena_hints(url: str, seeded: dict[str, Any]) -> None:
    """How to point balena-sdk at this server, with the first seeded balena user."""
    users: dict[str, Any] = {}
    for summary in seeded.values():
        users.update(summary.get("balena", {}).get("users", {}))
    print("  balena-sdk:")
    print("    from balena import Balena")
    print('    b = Balena({"data_directory": False})')
    print(f'    b.settings.set("api_endpoint", "{url}/"); b.pine.api_prefix = "{url}/v7/"')
    if users:
        name, creds = next(iter(users.items()))
        print(f'    b.auth.login(username="{name}", password="{creds["password"]}")')
    print(f"    or, for an unmodified program using Balena(): fleetsim balena-cfg --url {url}")


if __name__ == "__main__":
    raise SystemExit(main())
