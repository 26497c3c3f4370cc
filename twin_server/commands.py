"""Server-side ``twin`` commands: serve, worker, user and org administration, the audit
check of issue histories, demo data, the MQTT bridge and the sensor simulator.

Each reads the one ``Settings`` object (``TWIN_*`` environment) and reports bad input as a
one-line error with exit code 2, like ``twin ingest``.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import logging.config
import os
import sys
from pathlib import Path

__all__ = ["add_server_commands", "logging_config"]

EXIT_BAD_INPUT = 2


def logging_config(level: str = "INFO") -> dict:
    """Log lines carry the request id: ``2026-11-25 10:00:00 INFO [3f2a…] name: message``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "twin_server.api.context.RequestIdFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": level},
            "uvicorn.access": {"level": "WARNING"},  # our middleware logs requests, with ids
            "huey": {"level": "WARNING"},
            "alembic": {"level": "WARNING"},
        },
    }


def add_server_commands(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="start the API server (TWIN_* settings)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="process uploaded revisions from the job queue")
    worker.add_argument("--threads", type=int, default=1, help="jobs processed at once (default 1)")
    worker.set_defaults(run=_worker)

    user = commands.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    create = user.add_parser("create", help="add a user bound to an org node")
    create.add_argument("username")
    create.add_argument(
        "--role", required=True, help="admin, hq_viewer, regional_manager, bim_coordinator, …"
    )
    create.add_argument(
        "--node", required=True, help="code of the org node the user belongs to (HQ, EAST, …)"
    )
    create.add_argument("--display-name")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input (else: prompt)"
    )
    create.set_defaults(run=_user_create)
    password = user.add_parser("password", help="set a user's password (ends the user's sessions)")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true", help="read it from standard input")
    password.set_defaults(run=_user_password)
    for name, active, text in (
        ("disable", False, "stop a user from logging in"),
        ("enable", True, "let a user in again"),
    ):
        toggle = user.add_parser(name, help=text)
        toggle.add_argument("username")
        toggle.set_defaults(run=_user_active, active=active)

    org = commands.add_parser("org", help="manage the organisation tree").add_subparsers(
        dest="org_command", required=True
    )
    add = org.add_parser("add", help="add HQ, a region or a project")
    add.add_argument("kind", choices=("hq", "region", "project"))
    add.add_argument("code")
    add.add_argument("name")
    add.add_argument("--parent", help="code of the parent node (HQ for a region, a region for a project)")
    add.set_defaults(run=_org_add)

    audit = commands.add_parser("audit", help="integrity checks").add_subparsers(
        dest="audit_command", required=True
    )
    verify = audit.add_parser(
        "verify",
        help="check every issue's hash-chained event log (exit 1 if any row was edited, inserted or deleted)",
    )
    verify.add_argument("--project", help="code of one project (default: every project)")
    verify.add_argument(
        "--anchor",
        type=Path,
        help="an earlier `twin audit anchor` file: also find issues deleted and chains cut back since",
    )
    verify.set_defaults(run=_audit_verify)
    anchor = audit.add_parser(
        "anchor",
        help="write every issue's chain head (and one root hash per project) to keep outside the database",
    )
    anchor.add_argument("--project", help="code of one project (default: every project)")
    anchor.add_argument("--out", type=Path, help="file to write (default: standard output)")
    anchor.set_defaults(run=_audit_anchor)

    demo = commands.add_parser("demo", help="load the demo portfolio (development mode only)")
    demo.add_argument("--sample", type=Path, help="IFC to upload as the demo model's first revision")
    demo.add_argument(
        "--projects",
        type=int,
        default=50,
        help="projects in all, the flagship included (default 50; 3: the small demo)",
    )
    demo.add_argument("--seed", type=int, default=2026, help="seed of the generated portfolio (default 2026)")
    demo.set_defaults(run=_demo)

    bridge = commands.add_parser(
        "mqtt-bridge",
        help="store sensor readings published to an MQTT broker (TWIN_MQTT_URL); runs until Ctrl-C",
        description="Subscribe to {prefix}/{project}/{point} and {prefix}/{project}/{device}/status (QoS 1) "
        "and store what arrives, reconnecting with backoff. Not needed for HTTP ingest.",
    )
    bridge.add_argument("--url", help="the broker, mqtt://host:port or mqtts://… (default: TWIN_MQTT_URL)")
    bridge.add_argument("--client-id", help="MQTT client id (default: TWIN_MQTT_CLIENT_ID)")
    bridge.add_argument("--topic-prefix", help="first topic level(s) (default: TWIN_MQTT_TOPIC_PREFIX, twin)")
    bridge.add_argument(
        "--summary-every", type=_seconds, default=60.0, help="log the counts this often (s, default 60)"
    )
    bridge.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    bridge.set_defaults(run=_mqtt_bridge)

    simulate = commands.add_parser(
        "simulate-sensors",
        help="simulated monitoring readings for the demo portfolio, threshold breaches included",
        description="Set up devices and monitor points on each project and send them readings over a span "
        "ending now (and on, with --live): an excavation point held in alarm, a dust spike that must not "
        "fire, a device that falls silent.",
    )
    simulate.add_argument("--projects", help="project codes, comma-separated (default: every project)")
    simulate.add_argument(
        "--hours", type=_seconds, default=24.0, help="hours of readings back-filled up to now (default 24)"
    )
    simulate.add_argument("--live", action="store_true", help="then keep sending readings until Ctrl-C")
    simulate.add_argument(
        "--every", type=_seconds, default=10.0, help="with --live: seconds between readings (default 10)"
    )
    simulate.add_argument(
        "--seed", type=int, default=2026, help="seed of the generated values (default 2026)"
    )
    simulate.add_argument(
        "--via",
        choices=("direct", "http", "mqtt"),
        default="direct",
        help="direct: into the database of the TWIN_* settings (development mode); http: POST to --url; "
        "mqtt: publish to the broker (points set up through --url if given, else the database)",
    )
    simulate.add_argument(
        "--url", help="with --via http (or mqtt): the server (default http://127.0.0.1:8000)"
    )
    simulate.add_argument("--user", default="admin", help="who logs in over HTTP (default admin)")
    simulate.add_argument("--password", help="their password (default: the demo password)")
    simulate.add_argument("--mqtt-url", help="with --via mqtt: the broker (default: TWIN_MQTT_URL)")
    simulate.add_argument("--topic-prefix", help="with --via mqtt: default TWIN_MQTT_TOPIC_PREFIX (twin)")
    simulate.set_defaults(run=_simulate_sensors)


def _seconds(text: str) -> float:
    """argparse type: a positive number (of seconds or hours)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not positive")
    return value


def _settings():
    from pydantic import ValidationError

    from .config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        reasons = "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        raise _BadInput(f"configuration: {reasons}") from None


class _BadInput(Exception):
    pass


def run_command(run, args: argparse.Namespace) -> int:
    from .domain.errors import DomainError

    try:
        return run(args)
    except (_BadInput, DomainError) as exc:
        print(f"error: {getattr(exc, 'detail', exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()  # fail here, in one line, rather than in every worker
    config = logging_config(args.log_level)
    logging.config.dictConfig(config)
    log = logging.getLogger("twin_server")
    if settings.development:
        log.warning("DEVELOPMENT MODE (TWIN_DEVELOPMENT=1): default secret allowed, cookies without HTTPS")
    log.info(
        "database %s, data in %s, queue %s",
        settings.sqlalchemy_url.split("@")[-1],
        settings.data_dir.resolve(),
        settings.queue,
    )
    uvicorn.run(
        "twin_server.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=config,
        access_log=False,
        proxy_headers=False,
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    from .runtime import build_runtime

    settings = _settings()
    if settings.queue == "immediate":
        raise _BadInput("TWIN_QUEUE=immediate runs jobs inside the server; a worker needs redis or embedded")
    logging.config.dictConfig(logging_config())
    runtime = build_runtime(settings)
    logging.getLogger("twin_server").info(
        "worker %s consuming %s jobs with %s thread(s)", os.getpid(), runtime.queue.kind, args.threads
    )
    try:
        runtime.queue.run_worker(workers=args.threads)
    finally:
        runtime.close()
    return 0


def _user_create(args: argparse.Namespace) -> int:
    from .services.auth import create_user

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else _prompt_password()
    with _runtime() as runtime, runtime.sessions() as session:
        principal = create_user(
            session,
            username=args.username,
            password=password,
            role=args.role,
            node_code=args.node,
            display_name=args.display_name,
        )
    print(f"created user {principal.username} ({principal.role.value}) at {args.node}")
    return 0


def _user_password(args: argparse.Namespace) -> int:
    from .services.auth import set_password

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else _prompt_password()
    with _runtime() as runtime, runtime.sessions() as session:
        set_password(session, username=args.username, password=password)
    print(f"password of {args.username} changed; their sessions and tokens have ended")
    return 0


def _user_active(args: argparse.Namespace) -> int:
    from .services.auth import set_active

    with _runtime() as runtime, runtime.sessions() as session:
        set_active(session, username=args.username, active=args.active)
    print(f"{args.username} {'enabled' if args.active else 'disabled'}")
    return 0


@contextlib.contextmanager
def _runtime():
    from .runtime import build_runtime

    runtime = build_runtime(_settings())
    try:
        yield runtime
    finally:
        runtime.close()


def _prompt_password() -> str:
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise _BadInput("the passwords differ")
    return first


def _org_add(args: argparse.Namespace) -> int:
    from .domain.access import NodeKind
    from .services import orgs
    from .services.access import NodeRef

    with _runtime() as runtime, runtime.sessions() as session:
        parent = orgs.find_node(session, args.parent) if args.parent else None
        kind = NodeKind(args.kind)
        if kind is NodeKind.PROJECT:
            if parent is None:
                raise _BadInput("a project needs --parent REGION_CODE")
            node = orgs.create_project(
                session, region=NodeRef(parent.id, parent.kind, parent.path), code=args.code, name=args.name
            )
        else:
            node = orgs.create_node(
                session, kind=kind, code=args.code, name=args.name, parent_id=parent.id if parent else None
            )
            session.commit()
    print(f"added {args.kind} {args.code} (id {node.id})")
    return 0


EXIT_TAMPERED = 1  # the check ran and found a broken chain (not a usage error)


def _read_anchor(path: Path) -> dict[str, dict[str, tuple[int, str]]]:
    """project code → issue guid → (event count, head hash), from a ``twin audit anchor`` file."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            code: {guid: (int(count), str(head)) for guid, (count, head) in project["issues"].items()}
            for code, project in data["projects"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _BadInput(f"{path}: not an anchor file written by `twin audit anchor` ({exc})") from None


def _audit_verify(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from .services import orgs
    from .services.issues import verify_chains

    console = Console()
    anchored = _read_anchor(args.anchor) if args.anchor else {}
    with _runtime() as runtime, runtime.sessions() as session:
        project_ids = None
        if args.project:
            node = orgs.find_node(session, args.project)
            project_ids = [node.id]
            anchored = {code: heads for code, heads in anchored.items() if code == args.project}
        anchors = {orgs.find_node(session, code).id: heads for code, heads in anchored.items()}
        reports = verify_chains(session, project_ids=project_ids, anchors=anchors)
        codes = {report.project_id: orgs.get_node(session, report.project_id).code for report in reports}
    broken = [r for r in reports if not r.intact]
    issues = sum(r.issues_checked for r in reports)
    events = sum(r.events_checked for r in reports)
    for report in broken:
        for problem in report.problems:
            # One line per finding, whatever the terminal's width; the reason is data, not markup.
            console.print(
                f"[red]TAMPERED[/] project {escape(str(codes.get(report.project_id, report.project_id)))} "
                f"issue #{problem.number} event {problem.sequence}: {escape(problem.reason)}",
                highlight=False,
                soft_wrap=True,
            )
    verdict = "[red]chain broken[/]" if broken else "[green]intact[/]"
    console.print(
        f"{verdict}: {len(reports)} projects, {issues:,} issues, {events:,} events checked", highlight=False
    )
    return EXIT_TAMPERED if broken else 0


def _audit_anchor(args: argparse.Namespace) -> int:
    import datetime as dt
    import json

    from sqlalchemy import select

    from .db.orm import IssueRow
    from .domain.issues import anchor_root
    from .services import orgs
    from .services.issues import chain_anchor

    with _runtime() as runtime, runtime.sessions() as session:
        if args.project:
            project_ids = [orgs.find_node(session, args.project).id]
        else:
            project_ids = sorted(set(session.scalars(select(IssueRow.project_id))))
        projects = {}
        for project_id in project_ids:
            heads = chain_anchor(session, project_id=project_id)
            projects[orgs.get_node(session, project_id).code] = {
                "root": anchor_root(heads),
                "issues": {guid: list(head) for guid, head in sorted(heads.items())},
            }
    text = json.dumps(
        {"anchored_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "projects": projects},
        ensure_ascii=False,
        indent=1,
    )
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
        roots = ", ".join(f"{code} {p['root'][:16]}…" for code, p in projects.items()) or "no issues yet"
        print(f"anchored {len(projects)} projects to {args.out}: {roots}")
    else:
        print(text)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import seed_demo
    from .runtime import build_runtime

    settings = _settings()
    logging.config.dictConfig(logging_config("WARNING"))
    runtime = build_runtime(settings)
    try:
        result = seed_demo(
            runtime,
            sample_ifc=args.sample,
            projects=args.projects,
            seed=args.seed,
            on_progress=lambda line: print(f"demo: {line}", file=sys.stderr, flush=True),
        )
    finally:
        runtime.close()
    print(result.describe())
    return 0


def _mqtt_bridge(args: argparse.Namespace) -> int:
    from .mqtt import run_bridge

    return run_bridge(
        _settings(),
        url=args.url,
        client_id=args.client_id,
        topic_prefix=args.topic_prefix,
        summary_every_s=args.summary_every,
        log_level=args.log_level,
    )


def _simulate_sensors(args: argparse.Namespace) -> int:
    from .simulate import run_simulation

    return run_simulation(_settings(), args)
