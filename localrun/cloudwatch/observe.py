"""What the runner reports about each invocation: EMF metrics, Lambda's own metrics, logs, counters.

In AWS, CloudWatch Logs turns the handler's EMF output into metrics and Lambda publishes
``AWS/Lambda`` metrics about the function (Invocations, Errors, Duration, Throttles, IteratorAge by
FunctionName). :class:`RunnerTelemetry` does both into a :class:`MetricsHub`, writes the other output
lines to one log file per function (the local "log group"), and keeps counters for progress lines.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from localrun.cloudwatch.emf import Datum, EmfError, parse_line
from localrun.cloudwatch.metrics import MetricsHub
from localrun.esm.failure import Condition
from localrun.invoke.function import Function, Invocation

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

LAMBDA_NAMESPACE = "AWS/Lambda"
SQS_NAMESPACE = "AWS/SQS"


@dataclass(slots=True)
class FunctionCounters:
    invocations: int = 0
    errors: int = 0
    records: int = 0
    discarded: int = 0


class RunnerTelemetry:
    """An :class:`~localrun.esm.processor.Observer` that publishes and logs what it is told."""

    def __init__(
        self,
        hub: MetricsHub,
        *,
        log_dir: Path | None = None,
        service_metrics: bool = True,
    ) -> None:
        self._hub = hub
        self._log_dir = log_dir
        self._service_metrics = service_metrics
        self._lock = threading.Lock()
        self.counters: dict[str, FunctionCounters] = {}

    def snapshot(self) -> dict[str, FunctionCounters]:
        """A copy of the counters, safe to read while the runner's threads update them."""
        with self._lock:
            return {name: dataclasses.replace(counters) for name, counters in self.counters.items()}

    def _counters(self, function: Function) -> FunctionCounters:
        return self.counters.setdefault(function.name, FunctionCounters())

    def _lambda_datum(self, function: Function, name: str, value: float, unit: str, now: float) -> Datum:
        return Datum(LAMBDA_NAMESPACE, name, (("FunctionName", function.name),), (value,), unit, 60, now)

    def invoked(
        self, function: Function, invocation: Invocation, *, records: int, iterator_age_ms: float | None
    ) -> None:
        now = time.time()
        emf: list[Datum] = []
        text: list[str] = []
        for line in invocation.output:
            try:
                parsed = parse_line(line)
            except EmfError as exc:
                text.append(f"[local runtime] EMF document rejected: {exc}")
                continue
            if parsed is None:
                text.append(line)
            else:
                emf.extend(parsed)
        with self._lock:
            counters = self._counters(function)
            counters.invocations += 1
            counters.errors += int(invocation.failed)
            counters.records += records
        self._hub.add(function.region, emf)
        if self._service_metrics:
            service = [
                self._lambda_datum(function, "Invocations", 1, "Count", now),
                self._lambda_datum(function, "Errors", float(invocation.failed), "Count", now),
                # The local runtime has no concurrency limit, so it never throttles.
                self._lambda_datum(function, "Throttles", 0, "Count", now),
                self._lambda_datum(function, "Duration", invocation.duration_ms, "Milliseconds", now),
            ]
            if iterator_age_ms is not None:
                service.append(
                    self._lambda_datum(function, "IteratorAge", iterator_age_ms, "Milliseconds", now)
                )
            self._hub.add(function.region, service)
        self._write_log(function, invocation, text, records)

    def discarded(self, function: Function, records: int, condition: Condition) -> None:
        with self._lock:
            self._counters(function).discarded += records

    def _write_log(self, function: Function, invocation: Invocation, lines: list[str], records: int) -> None:
        if self._log_dir is None:
            return
        self._log_dir.mkdir(parents=True, exist_ok=True)
        status = f"error {invocation.error_type}" if invocation.failed else "ok"
        with self._lock, (self._log_dir / f"{function.name}.log").open("a", encoding="utf-8") as handle:
            handle.write(f"START RequestId: {invocation.request_id} Records: {records}\n")
            for line in lines:
                handle.write(line + "\n")
            handle.write(
                f"REPORT RequestId: {invocation.request_id} Duration: {invocation.duration_ms:.2f} ms "
                f"Memory Size: {function.memory_mb} MB Status: {status}\n"
            )


def sample_queue_depth(
    hub: MetricsHub, sqs: SQSClient, *, region: str, queue_url: str, queue_name: str
) -> int:
    """Publish the queue's visible-message count as SQS does (AWS/SQS, by QueueName)."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    depth = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    hub.add(
        region,
        [
            Datum(
                SQS_NAMESPACE,
                "ApproximateNumberOfMessagesVisible",
                (("QueueName", queue_name),),
                (float(depth),),
                "Count",
                60,
                time.time(),
            )
        ],
    )
    return depth
