"""`lambdapress db`: the local PostgreSQL and DynamoDB of the workspace (the only printing).

lambdapress db                      # start them, migrate, stay until Ctrl-C
lambdapress db --port 5433          # PostgreSQL on a chosen port (default: any free one)
lambdapress db --events-port 4566  # moto's queues, topics, buses, buckets on a chosen port
lambdapress db --migrate            # apply new migrations to the running servers
lambdapress db --migrate --service orders --database-url postgresql://...   # to another
"""

from __future__ import annotations

import argparse
import sys
import threading

from lambdapress.backends import dynamodb, postgres
from lambdapress.cli._args import MAX_PORT, Subcommands, add_root, bounded_int, root_of
from lambdapress.config.workspace import load_workspace
from lambdapress.errors import StorageError
from lambdapress.storage.local import LocalStorage, plan_local_storage, start_local_storage
from lambdapress.storage.migrations import MigrationReport


def register(commands: Subcommands) -> None:
    """Add `db` to the `lambdapress` command line."""
    db = commands.add_parser(
        "db",
        help="run the local PostgreSQL, DynamoDB and event services (moto) the services use, "
        "until Ctrl-C",
        description="Start PostgreSQL (data in .cache/lambdapress/db) and moto's DynamoDB on "
        "127.0.0.1 for the services that declare [tool.lambdapress.storage]: one database per "
        "postgres service with its migrations applied, each dynamodb service's tables (with "
        "their streams). When services declare queues, topics, buses or buckets, another moto "
        "server holds them (with their dead-letter queues and subscriptions), made from "
        "dist/manifest.json (package first; serve makes a new build's). serve and invoke then "
        "pass the connection settings and the resources' addresses to the functions.",
    )
    db.add_argument(
        "--port",
        type=bounded_int(0, MAX_PORT),
        default=0,
        metavar="PORT",
        help="PostgreSQL port (0: any free one)",
    )
    db.add_argument(
        "--dynamodb-port",
        type=bounded_int(0, MAX_PORT),
        default=0,
        metavar="PORT",
        help="moto server port (0: any free one)",
    )
    db.add_argument(
        "--events-port",
        type=bounded_int(0, MAX_PORT),
        default=0,
        metavar="PORT",
        help="port of moto's server for queues, topics, buses and buckets (0: any free one)",
    )
    db.add_argument(
        "--max-connections",
        type=bounded_int(5, 10000),
        default=None,
        metavar="N",
        help="PostgreSQL's max_connections (default: the server's, 100)",
    )
    db.add_argument(
        "--migrate",
        action="store_true",
        help="apply new migrations to the running servers (or --database-url) and exit",
    )
    db.add_argument("--database-url", metavar="URL", help="with --migrate: the database to migrate")
    db.add_argument("--service", metavar="NAME", help="with --migrate: only this service")
    add_root(db)
    db.set_defaults(handler=_cmd_db)


def _cmd_db(args: argparse.Namespace) -> int:
    workspace = load_workspace(root_of(args))
    if args.migrate:
        _print_migrations(postgres.migrate(workspace, url=args.database_url, service=args.service))
        return 0
    if args.database_url is not None or args.service is not None:
        raise StorageError(
            "--database-url and --service go with --migrate",
            hint="add --migrate, or leave them out to start the local servers",
        )
    settings = {}
    if args.max_connections is not None:
        settings["max_connections"] = str(args.max_connections)
    plan = plan_local_storage(
        workspace,
        ports={
            postgres.BACKEND.name: args.port or None,
            dynamodb.BACKEND.name: args.dynamodb_port or None,
        },
        settings={postgres.BACKEND.name: settings},
        events_port=args.events_port or None,
    )
    with start_local_storage(plan, on_progress=_note) as storage:
        _print_running(storage)
        _wait_for_interrupt()
    return 0


def _note(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _print_running(storage: LocalStorage) -> None:
    for line in storage.report():
        print(line)
    print("serve and invoke now pass these to the functions; Ctrl-C stops", flush=True)


def _print_migrations(reports: dict[str, MigrationReport]) -> None:
    for service, report in sorted(reports.items()):
        if report.applied:
            print(f"{service}: applied {report.applied_text()}")
        else:
            print(f"{service}: up to date ({len(report.already)} migrations)")


def _wait_for_interrupt() -> None:
    """Sleep until SIGINT or SIGTERM; `main()`'s handlers raise Interrupted here."""
    forever = threading.Event()
    while not forever.wait(3600):
        pass
