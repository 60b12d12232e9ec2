"""The events server: moto's, for the queues, topics, buses and buckets of the workspace.

    with start_events_server(folder, names, port, manifest) as server:   # `lambdapress db`
        server.endpoint                                                   # EventsEndpoint
    with events_for(root, manifest) as server:   # `serve`: db's server, else one of its own

`lambdapress db` starts one when the workspace declares event resources (`[tool.lambdapress.
queues]`, `topics`, `buses`, `buckets`) or its build has triggers that need one, next to (not
in) the DynamoDB tables' moto, and records it in the state file (`LocalStorageState.events`).
`serve` uses that one; without a `db`, it starts a moto of its own for as long as it runs (in
memory: what it held is gone when `serve` stops). `invoke` uses `db`'s only. Each creates the
manifest's resources in it (`storage.events.create_event_resources`); `db` when a build is
there (`package` first), `serve` at start and after each rebuild.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from lambdapress.config.workspace import Workspace
from lambdapress.model.application import Application
from lambdapress.model.config_resources import is_config_resource
from lambdapress.model.event_names import has_event_resources
from lambdapress.model.storage_backends import LOCAL_STAGE, StageNames
from lambdapress.storage.config_values import read_local_values, seed_values
from lambdapress.storage.dynamodb import MotoServer, start_moto
from lambdapress.storage.events import EventsEndpoint, create_event_resources
from lambdapress.support.closing import ClosesOnExit
from lambdapress.support.files import CACHE_FOLDER
from lambdapress.support.loopback import LOCAL_REGION, free_port

EVENT_TRIGGER_KINDS = frozenset({"sqs", "sns", "eventbridge", "s3", "dynamodb-stream"})
"""The trigger kinds delivered from moto's server (schedules need none)."""
LOG = "events-moto.log"


class EventsState(BaseModel):
    """Where `lambdapress db`'s events server is, for `serve` and `invoke`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    project: str
    stage: str = LOCAL_STAGE
    region: str = LOCAL_REGION

    @property
    def endpoint(self) -> EventsEndpoint:
        """The server and the names of the local stage."""
        return EventsEndpoint(self.url, StageNames(self.project, self.stage), self.region)


def needs_events(application: Application) -> bool:
    """Whether the build has event resources, or triggers delivered from moto's server."""
    kinds = {t.kind for function in application.functions for t in function.triggers}
    reads = any(is_config_resource(r) for r in application.resources)
    return has_event_resources(application) or reads or bool(kinds & EVENT_TRIGGER_KINDS)


def declares_events(workspace: Workspace) -> bool:
    """Whether a service declares queues, topics, buses, buckets, secrets or parameters."""
    return any(
        s.settings.queues
        or s.settings.topics
        or s.settings.buses
        or s.settings.buckets
        or s.settings.secrets
        or s.settings.parameters
        for s in workspace.services
    )


class EventsServer(ClosesOnExit):
    """An events server in use: its endpoint, and its moto process when it is ours."""

    def __init__(
        self,
        endpoint: EventsEndpoint,
        server: MotoServer | None = None,
        created: tuple[str, ...] = (),
        root: Path | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.server = server
        """Our moto process (None: someone else's server, `db`'s)."""
        self.created = created
        self.root = root
        """The repository whose `.lambdapress/secrets.local.toml` seeds secrets and parameters
        (None: nothing is seeded)."""

    @property
    def state(self) -> EventsState:
        """What the state file records of it."""
        return EventsState(
            url=self.endpoint.url,
            project=self.endpoint.names.project,
            stage=self.endpoint.names.stage,
            region=self.endpoint.region,
        )

    def ensure(self, application: Application) -> tuple[str, ...]:
        """Create `application`'s event resources that are not there yet; the new ones.

        And its secrets and parameters the server lacks, from the local file
        (`storage.config_values`).
        """
        created = create_event_resources(self.endpoint, application)
        if self.root is None:
            return created
        return (*created, *seed_values(self.endpoint, application, read_local_values(self.root)))

    def report(self) -> tuple[str, ...]:
        """What `db` prints about it."""
        lines = [
            f"Events (moto: SQS, SNS, EventBridge, S3, Secrets Manager, SSM) on "
            f"{self.endpoint.url} "
            "(data in memory: empty at each start)"
        ]
        lines.extend(f"  {what}" for what in self.created)
        return tuple(lines)

    def close(self) -> None:
        """Stop our moto (a server of `db`'s stays)."""
        if self.server is not None:
            self.server.stop()


def start_events_server(
    folder: Path,
    names: StageNames,
    port: int,
    application: Application | None = None,
    say: Callable[[str], None] = lambda _line: None,
    root: Path | None = None,
) -> EventsServer:
    """Start moto on 127.0.0.1:`port` and create `application`'s event resources in it.

    With `root`, its secrets and parameters are seeded from the repository's local file.
    """
    say(f"Events (moto): starting on port {port}")
    moto = start_moto(port, folder / LOG)
    running = EventsServer(EventsEndpoint(moto.endpoint, names), moto, root=root)
    try:
        if application is not None:
            running.created = running.ensure(application)
    except BaseException:
        running.close()
        raise
    return running


def events_for(
    root: Path,
    application: Application,
    names: StageNames,
    running: EventsState | None,
    say: Callable[[str], None] = lambda _line: None,
) -> EventsServer | None:
    """`serve`'s events server: `running` (`db`'s) if any, else one of its own; None if unneeded.

    The manifest's resources are created in it either way.
    """
    if not needs_events(application):
        return None
    if running is not None:
        server = EventsServer(running.endpoint, root=root)
        server.created = server.ensure(application)
        return server
    say("no `lambdapress db` runs: serve starts moto's server for the event sources")
    folder = root / CACHE_FOLDER / "serve"
    return start_events_server(folder, names, free_port(), application, say, root)
