"""Everything the doctor learnt (:class:`Facts`) and what the operator says the setup should be
(:class:`Expected`): the two inputs of the rules. Pure data."""

from __future__ import annotations

from dataclasses import dataclass

from replicator.cli.doctor.findings import Unreadable
from replicator.cli.doctor.views import (
    ClockView,
    FunctionView,
    MappingView,
    PitrView,
    QueueView,
    SimulationView,
    StreamView,
    TableView,
    TtlView,
)
from replicator.core.policy import TtlPolicy
from replicator.settings import Settings


@dataclass(frozen=True, slots=True)
class TableFacts:
    """One table: ``table`` is None when it does not exist; ``ttl``/``pitr`` None when not read."""

    role: str
    """``source``, ``replica`` or ``state``."""
    name: str
    region: str
    table: TableView | Unreadable | None
    ttl: TtlView | Unreadable | None = None
    pitr: PitrView | Unreadable | None = None

    @property
    def where(self) -> str:
        return f"the {self.role} table {self.name!r} in {self.region}"


@dataclass(frozen=True, slots=True)
class Facts:
    source: TableFacts
    replica: TableFacts
    state: TableFacts
    stream: StreamView | Unreadable | None = None
    """None: the source has no stream to describe."""
    mappings: tuple[MappingView, ...] | Unreadable | None = None
    """The event source mappings on the stream; None when there is no stream."""
    function: FunctionView | Unreadable | None = None
    """The replicator function; None when none was found (or ``--function`` names none)."""
    function_given: str | None = None
    """``--function`` as given, if it was."""
    queue: QueueView | Unreadable | None = None
    queue_note: str = ""
    """Why no queue was read (e.g. the destination is an SNS topic), when ``queue`` is None."""
    queue_missing: bool = False
    """The queue named (``--failure-queue`` or the mapping's destination) does not exist."""
    clock: ClockView | None = None
    simulation: SimulationView | Unreadable | None = None


@dataclass(frozen=True, slots=True)
class Expected:
    """The setup as the operator describes it (options; defaults as the CDK app deploys)."""

    settings: Settings
    """What the replicator's environment must say (replica, region, state table, TTL policy...)."""
    ttl_attribute: str | None
    """The source's TTL attribute as deployed (``--ttl-attribute``); None: whatever the source has."""
    local_endpoint: bool
    """``--endpoint-url`` given: a local endpoint, where Lambda's mappings are emulated in-process."""
    deep: bool = False

    @property
    def ttl_policy(self) -> TtlPolicy:
        return self.settings.ttl_policy
