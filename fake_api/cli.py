"""``fleetsim serve``: the fake as a standalone server for local, offline development."""

from __future__ import annotations

import argparse
import ipaddress
import json
import secrets
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
    serve.add_argument("--port", type=_port, default=5055,
                       help="port (default 5055; 0 picks a free one)")
    serve.add_argument("--seed", type=int, default=0, help="seed for ids, tokens and random choices")
    serve.add_argument("--scenario", action="append", metavar="NAME_OR_PATH",
                       help="scenario to load at start (repeatable; default: 'default'); "
                            f"shipped: {', '.join(scenarios.available())}")
    serve.add_argument("--empty", action="store_true", help="start with no scenario at all")
    serve.add_argument("--state", type=Path, metavar="FILE",
                       help="keep the state in FILE (SQLite), committed after every request; "
                            "loaded at start if it exists (an old JSON state file is converted)")
    serve.add_argument("--state-sync", choices=("normal", "full"), default="normal",
                       help="normal: survives a killed process (default); full: also fsyncs every "
                            "write, to survive power loss")
    serve.add_argument("--control-token", metavar="TOKEN",
                       help="require TOKEN on /__fleetsim__/ (one is generated when --host is not "
                            "loopback; an empty TOKEN is refused there)")
    serve.add_argument("--virtual-clock", action="store_true",
                       help="freeze time; move it with POST /__fleetsim__/clock (default: real time)")
    serve.add_argument("--json", action="store_true",
                       help="print one line of JSON (url, control plane, clock, seed, credentials) "
                            "on stdout instead of the text banner, for scripts")
    serve.set_defaults(serve_parser=serve)
    serve.add_argument("--scenario-files", action="store_true",
                       help="let POST /__fleetsim__/scenario load local scenario files by path "
                            "(by default only shipped names are accepted over HTTP)")

    sub.add_parser("scenarios", help="list the shipped scenarios with their descriptions")

    creds = sub.add_parser("credentials",
                           help="print the credentials a running fleetsim serve seeded (JSON)")
    creds.add_argument("--url", default="http://127.0.0.1:5055",
                       help="base URL of the running server (default http://127.0.0.1:5055)")
    creds.add_argument("--control-token", default=None, metavar="TOKEN",
                       help="the server's control-plane token, when it printed one")

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


def _port(text: str) -> int:
    """A TCP port for argparse: 0-65535 (0 lets the system pick a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{port} is not a port (0-65535; 0 picks a free one)")
    return port


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        if args.empty and args.scenario:
            args.serve_parser.error("--empty starts with no scenario at all; drop it to load "
                         f"{', '.join(args.scenario)} (or drop --scenario)")
        return serve(args)
    if args.command == "demo":
        from . import demo

        return demo.run(args)
    if args.command == "scenarios":
        return list_scenarios()
    if args.command == "credentials":
        return credentials(args.url, args.control_token)
    if args.command == "balena-cfg":
        from .balena.sdk_config import write_balena_cfg

        print(f"fleetsim: wrote {write_balena_cfg(args.url, args.dir)}")
        return 0
    parser.print_help()
    return 2


def list_scenarios() -> int:
    found = scenarios.descriptions()
    width = max((len(name) for name in found), default=0)
    for name, description in found.items():
        print(f"{name:<{width}}  {description}".rstrip())
    return 0


def credentials(url: str, token: Optional[str] = None) -> int:
    """Ask a running server what its scenarios seeded (works after a ``--state`` restart too)."""
    import urllib.error
    import urllib.request

    target = url.rstrip("/") + "/__fleetsim__/credentials"
    request = urllib.request.Request(target, headers={"X-Fleetsim-Token": token} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            data = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"fleetsim: cannot read {target}: {exc}; is `fleetsim serve` running there? "
              "(give its address with --url)", file=sys.stderr)
        return 1
    print(json.dumps(data["scenarios"], indent=2))
    return 0


def _check_free(host: str, port: int) -> None:
    """Raise the ``OSError`` a bind on ``host:port`` would raise (port 0 is always free)."""
    import socket

    if port == 0:
        return
    for family, kind, proto, _, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
        return


def _listen_error(host: str, port: int, exc: OSError) -> str:
    import errno

    text = f"fleetsim: cannot listen on {host}:{port}: {exc.strerror or exc}"
    if exc.errno == errno.EADDRINUSE:
        text += (f"\n  another program (maybe another fleetsim serve) holds port {port}: stop it, "
                 "pick another with --port N, or use --port 0 for any free port")
    elif exc.errno == errno.EACCES:
        text += "\n  ports below 1024 need privileges: use a port above 1023, or --port 0"
    return text


def _banner(url: str, app: Any, cloud: Any, seeded: dict[str, Any]) -> dict[str, Any]:
    return {
        "fleetsim": __version__,
        "url": url,
        "dialects": [d.name for d in app.dialects],
        "control": f"{url}/__fleetsim__/",
        "health": f"{url}/__fleetsim__/health",
        "clock": "virtual" if cloud.clock.virtual else "real",
        "seed": cloud.seed,
        "credentials": seeded,
    }


def _print_banner(info: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(info), flush=True)
        return
    url = info["url"]
    print(f"fleetsim {__version__} serving on {url}", flush=True)
    print(f"  dialects: {', '.join(info['dialects'])}")
    print(f"  control plane: {info['control']}  (health: {info['health']})")
    if info.get("control_token"):
        print(f"  control token: {info['control_token']}  (send 'Authorization: Bearer <token>' or "
              "'X-Fleetsim-Token: <token>' to /__fleetsim__/; the dashboard takes ?token=)")
    print(f"  clock: {info['clock']}, seed {info['seed']}")
    if info.get("state"):
        print(f"  state: {info['state']} (every write committed before it is answered)")
    if info["credentials"]:
        print("  seeded credentials (again any time: fleetsim credentials --url " + url + "):")
        print("    " + json.dumps(info["credentials"], indent=2).replace("\n", "\n    "))
    _print_balena_hints(url, info["credentials"])
    print("Press Ctrl+C to stop.", flush=True)


def serve(args: argparse.Namespace) -> int:
    from .app import create_app
    from .core import Clock, Cloud
    from .core.persist import Durable, StateFileError
    from .serving import make_fleetsim_server

    token = control_token(args.host, args.control_token)
    if token is False:
        print(f"fleetsim: refusing to expose the control plane on {args.host} without a token; "
              "drop --control-token '' or listen on 127.0.0.1", file=sys.stderr)
        return 2
    cloud = Cloud(seed=args.seed, clock=Clock(virtual=args.virtual_clock))
    app = create_app(cloud)
    app.config["FLEETSIM_CONTROL_TOKEN"] = token or None
    app.config["FLEETSIM_SCENARIO_FILES"] = args.scenario_files
    try:
        _check_free(args.host, args.port)  # werkzeug would print its own text and exit
        server = make_fleetsim_server(args.host, args.port, app)
    except OSError as exc:
        print(_listen_error(args.host, args.port, exc), file=sys.stderr)
        return 1
    url = f"http://{args.host}:{server.port}"
    # With --json, stdout carries only the banner line; everything else goes to stderr.
    say = sys.stderr if args.json else sys.stdout

    durable: Optional[Durable] = None
    try:
        state = "new"
        if args.state is not None:
            durable, state = Durable.open(cloud, args.state, sync=args.state_sync)
            if state == "converted":
                print(f"fleetsim: converted the JSON state file {args.state} to SQLite "
                      f"(the JSON is kept as {args.state}.json-backup)", file=say)
            elif state == "loaded":
                print(f"fleetsim: state loaded from {args.state}", file=say)
        if state == "new" and not args.empty:
            for name in args.scenario or ["default"]:
                scenarios.load(cloud, name, url, app.dialects)
        if durable is not None:
            durable.commit()
            cloud.durable = durable
    except (scenarios.ScenarioError, StateFileError, ValueError) as exc:
        print(f"fleetsim: {exc}", file=sys.stderr)
        if durable is not None:
            durable.close()
        server.server_close()
        return 1

    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # Before the banner: whoever reads it may stop the server at once.
    signal.signal(signal.SIGTERM, _stop)
    try:
        # What every scenario in the state seeded: after a --state restart too.
        info = _banner(url, app, cloud, scenarios.loaded(cloud))
        if token:
            info["control_token"] = token
        if durable is not None:
            info["state"] = str(args.state)
        _print_banner(info, args.json)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        # Every write is already in the file: a second Ctrl+C here cannot lose anything, and
        # is ignored so that the file is closed cleanly.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.server_close()
        if durable is not None:
            with cloud.store.lock:
                durable.commit()
                durable.close()
            print(f"fleetsim: state is in {args.state}", flush=True, file=say)
    return 0


def control_token(host: str, given: Optional[str]) -> str | None | bool:
    """The control-plane token: ``given`` if any; a fresh one when ``host`` is not loopback;
    ``None`` on loopback; ``False`` for an explicitly empty token on a non-loopback host."""
    if given is not None:
        if given.strip():
            return given.strip()
        return None if is_loopback(host) else False
    if is_loopback(host):
        return None
    return secrets.token_urlsafe(24)  # not from the seed: it guards the fake, it is not fake data


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


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
