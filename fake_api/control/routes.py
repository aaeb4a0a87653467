"""``/__fleetsim__/``: the fake's own API, for tests in other processes and for people."""

from __future__ import annotations

import fnmatch
import hmac
import html
import re
from typing import Any, Optional

from flask import Blueprint, Response, request

from .. import __version__, scenarios
from ..core import FleetsimError
from ..http import empty, json_response, read_json


def make_blueprint(app: Any) -> Blueprint:
    cloud = app.cloud
    bp = Blueprint("fleetsim_control", __name__, url_prefix="/__fleetsim__")

    @bp.before_request
    def _require_token() -> None:
        """With a control token set, every route but the health check needs it."""
        if request.endpoint != "fleetsim_control.health" and not _token_ok(app):
            raise FleetsimError(
                "the control plane needs the token fleetsim serve printed at start: send "
                "'Authorization: Bearer <token>' or 'X-Fleetsim-Token: <token>'", 401)

    @bp.get("/health")
    def health() -> Response:
        body: dict[str, Any] = {
            "status": "ok",
            "version": __version__,
            "dialects": [d.name for d in app.dialects],
        }
        if _token_ok(app):  # the seed predicts every seeded credential: only for the token holder
            body.update(seed=cloud.seed, clock=cloud.clock.to_json())
        return json_response(body)

    @bp.post("/reset")
    def reset() -> Response:
        body = read_json(default={})
        seed = body.get("seed")
        if seed is not None and not isinstance(seed, int):
            raise FleetsimError("'seed' must be an integer", 400)
        cloud.reset(seed=seed)
        return json_response({"status": "reset", "seed": cloud.seed})

    @bp.get("/snapshot")
    def snapshot() -> Response:
        return json_response(cloud.snapshot())

    @bp.post("/restore")
    def restore() -> Response:
        try:
            cloud.restore(read_json())
        except ValueError as exc:
            raise FleetsimError(str(exc), 400) from None
        return json_response({"status": "restored", "clock": cloud.clock.isoformat()})

    @bp.get("/clock")
    def clock_get() -> Response:
        return json_response(cloud.clock.to_json())

    @bp.post("/clock")
    def clock_move() -> Response:
        body = read_json()
        try:
            if "set" in body:
                cloud.clock.set(body["set"])
            elif "advance" in body:
                step = body["advance"]
                if isinstance(step, bool) or not isinstance(step, (int, float)):
                    raise ValueError("'advance' must be a number of seconds")
                cloud.clock.advance(step)
            else:
                raise ValueError('give {"advance": seconds} or {"set": "ISO-8601 time"}')
        except (ValueError, TypeError) as exc:
            raise FleetsimError(str(exc), 400) from None
        return json_response(cloud.clock.to_json())

    @bp.get("/faults")
    def faults_list() -> Response:
        return json_response({"faults": cloud.faults.to_json()})

    @bp.post("/faults")
    def faults_add() -> Response:
        spec = read_json()
        if not isinstance(spec, dict):
            raise FleetsimError("bad fault rule: give a JSON object of options", 400)
        try:
            rule = cloud.faults.add(**spec)
        except (ValueError, TypeError) as exc:
            raise FleetsimError(f"bad fault rule: {exc}", 400) from None
        return json_response(rule.to_json(), 201)

    @bp.delete("/faults")
    def faults_clear() -> Response:
        cloud.faults.clear()
        return empty()

    @bp.delete("/faults/<int:rule_id>")
    def faults_remove(rule_id: int) -> Response:
        if not cloud.faults.remove(rule_id):
            raise FleetsimError(f"no fault rule {rule_id}", 404)
        return empty()

    @bp.get("/journal")
    def journal() -> Response:
        args = request.args
        status = args.get("status")
        if status is not None and not (status.isdigit() and len(status) == 3):
            raise FleetsimError(f"'status' must be an HTTP status code such as 404, not {status!r}", 400)
        path = args.get("path")
        if path is not None and len(path) > 2048:
            raise FleetsimError("'path' is longer than 2048 characters", 400)
        entries = cloud.journal.entries(
            dialect=args.get("dialect"),
            method=args.get("method"),
            # compiled here (re's cache is bounded), not through fnmatch's large pattern cache
            path=re.compile(fnmatch.translate(path)) if path else None,
            status=int(status) if status is not None else None,
        )
        return json_response({"entries": [e.to_json() for e in entries]})

    @bp.delete("/journal")
    def journal_clear() -> Response:
        cloud.journal.clear()
        return empty()

    @bp.post("/scenario")
    def scenario() -> Response:
        body = read_json()
        if not isinstance(body, dict):
            raise FleetsimError('give {"name": "<shipped name>"} or the scenario itself', 400)
        source = body["name"] if set(body) == {"name"} else body
        try:
            summary = scenarios.load(cloud, source, request.host_url, app.dialects,
                                     allow_files=bool(app.config.get("FLEETSIM_SCENARIO_FILES")))
        except scenarios.ScenarioError as exc:
            raise FleetsimError(str(exc), 400) from None
        return json_response(summary)

    @bp.get("/credentials")
    def credentials() -> Response:
        return json_response({"scenarios": scenarios.loaded(cloud)})

    @bp.get("/")
    def dashboard() -> Response:
        return Response(_dashboard(app), mimetype="text/html")

    return bp


def _token_ok(app: Any) -> bool:
    expected: Optional[str] = app.config.get("FLEETSIM_CONTROL_TOKEN")
    if not expected:
        return True
    auth = request.headers.get("Authorization", "")
    given = (auth[7:].strip() if auth[:7].lower() == "bearer " else "") \
        or request.headers.get("X-Fleetsim-Token", "")
    if not given and request.method == "GET" and request.endpoint == "fleetsim_control.dashboard":
        given = request.args.get("token", "")  # a browser cannot send a header
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _dashboard(app: Any) -> str:
    cloud = app.cloud
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{len(cloud.store.table(name))}</td></tr>"
        for name in cloud.store.names
        if not name.startswith("_core.")
    )
    recent = "".join(
        f"<tr><td>{html.escape(e.time)}</td><td>{e.dialect}</td><td>{e.method}</td>"
        f"<td>{html.escape(e.path)}</td><td>{e.status}</td><td>{e.duration_ms:.1f}</td></tr>"
        for e in cloud.journal.entries()[-50:][::-1]
    )
    faults = "".join(f"<li><code>{html.escape(str(r.to_json()))}</code></li>" for r in cloud.faults.rules)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>fleetsim</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:left}}</style>
</head><body><h1>fleetsim {__version__}</h1>
<p>clock: <b>{cloud.clock.isoformat()}</b> ({'virtual' if cloud.clock.virtual else 'real'}),
seed {cloud.seed}</p>
<h2>Tables</h2><table><tr><th>table</th><th>rows</th></tr>{rows}</table>
<h2>Faults</h2><ul>{faults or '<li>none</li>'}</ul>
<h2>Last requests</h2><table><tr><th>time</th><th>dialect</th><th>method</th><th>path</th>
<th>status</th><th>ms</th></tr>{recent}</table></body></html>"""
