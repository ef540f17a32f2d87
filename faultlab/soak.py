"""``make soak``: a long fault-injection run of the whole system; its result goes into
docs/reliability.md.

    python -m faultlab.soak [--seed 7] [--writes 3000] [--duration 150] [--keys 150]

Thousands of sequence-numbered writes (with awkward values and a few poison records) go to the
source table while every fault kind is injected at once: throttling, 500/503, timeouts before and
after the write, lost replies, latency, bursts, region outages shorter and longer than the retry
budget, runtime crashes and timeouts part-way through batches, duplicate and out-of-order delivery,
and crashes of the usage-metrics consumer. After the workload, the stream is drained, the failure
queue is redriven with ``python -m replicator redrive``, and every validator of the
fault-injection suite runs on the final state. The exit code is 0 only if none found a problem.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ddbstream import key_id
from faultlab import payloads, poison
from faultlab.faults import FaultRates
from faultlab.rig import FaultRig, RigSettings
from faultlab.sandbox import SandboxRates
from faultlab.sequenced import SequencedSettings
from faultlab.soakreport import SoakResult, Window, render, write_section
from faultlab.validate import failure_destination_problems
from localrun.aws.credentials import FAKE_CREDENTIALS

BASE = FaultRates(
    throttle=0.02,
    server_error=0.02,
    timeout=0.01,
    lost_reply=0.03,
    latency=0.05,
    latency_seconds=(0.005, 0.05),
)
BURST = FaultRates(throttle=0.5, server_error=0.25, lost_reply=0.05)
SANDBOX = SandboxRates(
    crash=0.04, timeout=0.005, duplicate=0.02, replay=0.02, newer_first=0.02, max_requests_before_crash=10
)
METRICS_SANDBOX = SandboxRates(crash=0.02)
REPORTING_RESERVE = 1.0  # what the replicator keeps back from its timeout to report


@dataclass(frozen=True, slots=True)
class SoakOptions:
    seed: int = 7
    writes: int = 3000
    duration: float = 150.0
    keys: int = 150
    poison_every: int = 400
    batch_size: int = 50
    max_retry_attempts: int = 2
    function_timeout: float = 2.5
    output: Path | None = Path("docs/reliability.md")
    drain_timeout: float = 300.0


def retry_budget(options: SoakOptions, backoff_cap: float) -> float:
    """How long a batch is retried before it goes to the failure queue, when every write fails."""
    per_invocation = options.function_timeout - REPORTING_RESERVE
    waits = sum(min(backoff_cap, 0.05 * 2 ** (n - 1)) for n in range(1, options.max_retry_attempts + 1))
    return float((options.max_retry_attempts + 1) * per_invocation + waits)


def plan_windows(duration: float, budget: float) -> list[Window]:
    """Per period of about 30 s: a burst, an outage within the retry budget, and every other period
    an outage one and a half times longer than the budget (its batches reach the failure queue)."""
    periods = max(1, round(duration / 30))
    length = duration / periods
    windows = []
    for i in range(periods):
        base = i * length
        windows.append(Window("throttling and 5xx burst", base + 0.1 * length, base + 0.1 * length + 2.0))
        windows.append(
            Window("outage within the retry budget", base + 0.35 * length, base + 0.35 * length + 1.0)
        )
        if i % 2 == 0:
            start = base + 0.55 * length
            windows.append(Window("outage beyond the retry budget", start, start + 1.5 * budget))
    return windows


def run_soak(options: SoakOptions, *, say: Callable[[str], None] = print) -> SoakResult:
    started = time.monotonic()
    settings = RigSettings(
        seed=options.seed,
        batch_size=options.batch_size,
        max_retry_attempts=options.max_retry_attempts,
        function_timeout=options.function_timeout,
        rates=BASE,
        sandbox=SANDBOX,
        metrics_sandbox=METRICS_SANDBOX,
    )
    with FaultRig(settings, annotate=poison.annotate) as rig, tempfile.TemporaryDirectory() as scratch:
        cfg = rig.cfg
        windows = plan_windows(options.duration, retry_budget(options, settings.retry_backoff_cap))
        chars = poison.largest_string(rig.clients.dynamodb(cfg.source_region), cfg, f"{cfg.table_name}-probe")
        workload = rig.workload(
            SequencedSettings(keys=options.keys, seed=options.seed), decorate=payloads.awkward
        )
        kinds = list(poison.Poison)
        poisoned: list[poison.Poison] = []
        last_progress = [time.monotonic()]

        def before_write(done: int) -> None:
            if options.poison_every and done % options.poison_every == options.poison_every // 2:
                kind = kinds[len(poisoned) % len(kinds)]
                workload.put(poison.poison_item(cfg, kind, len(poisoned), oversize_chars=chars))
                poisoned.append(kind)
            if time.monotonic() - last_progress[0] >= 10:
                last_progress[0] = time.monotonic()
                say(
                    f"  {done:,} writes, {len(rig.replicator_invocations()):,} invocations, "
                    f"{sum(rig.injector.injected.values()):,} faults injected"
                )

        say(f"soak: {options.writes:,} writes over {options.duration:g} s, seed {options.seed}")
        with rig.running():
            origin = rig.injector.clock()
            for window in windows:
                if window.kind.startswith("outage"):
                    rig.injector.outage(origin + window.start, origin + window.end)
                else:
                    rig.injector.burst(origin + window.start, origin + window.end, BURST)
            began = time.monotonic()
            workload.run(options.writes, rate=options.writes / options.duration, before_write=before_write)
            workload_seconds = time.monotonic() - began
            say(f"workload done in {workload_seconds:.0f} s; draining the stream")
            while rig.injector.in_outage():
                time.sleep(0.2)
            rig.drain(options.drain_timeout)
        queued = rig.queued_messages()
        say(f"redriving {len(queued)} failure message(s)")
        began = time.monotonic()
        redrive = rig.redrive(Path(scratch) / "redrive.json")
        say(f"redrive: exit code {redrive.code} after {time.monotonic() - began:.0f} s")
        unreplicable = {
            key_id(poison.poison_key(cfg, kind, number))
            for number, kind in enumerate(poisoned)
            if kind in poison.STAYS_POISON
        }
        problems = rig.problems(workload.model, exempt=unreplicable)
        problems["failure destination"] = failure_destination_problems(
            queued, redrive.document or {}, rig.queue_depth()
        )
        problems["unreplicable items kept out"] = sorted(unreplicable & rig.replica_items().keys())
        return SoakResult.collect(
            rig,
            workload.model,
            options=options,
            poisoned=poisoned,
            windows=windows,
            queued=list(queued.values()),
            redrive=redrive,
            problems=problems,
            seconds=time.monotonic() - started,
            workload_seconds=workload_seconds,
            peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        )


def parse_args(argv: Sequence[str] | None) -> SoakOptions:
    parser = argparse.ArgumentParser(prog="python -m faultlab.soak", description=__doc__.split("\n\n")[0])
    defaults = SoakOptions()
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the workload and faults")
    parser.add_argument("--writes", type=int, default=defaults.writes, help="writes to the source table")
    parser.add_argument("--duration", type=float, default=defaults.duration, help="seconds of workload")
    parser.add_argument("--keys", type=int, default=defaults.keys, help="distinct keys written")
    parser.add_argument(
        "--poison-every",
        type=int,
        default=defaults.poison_every,
        help="one poison record per N writes (0: none)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=defaults.output,
        help="the report to rewrite (default docs/reliability.md)",
    )
    parser.add_argument("--no-report", action="store_true", help="print the result only")
    args = parser.parse_args(argv)
    return SoakOptions(
        seed=args.seed,
        writes=args.writes,
        duration=args.duration,
        keys=args.keys,
        poison_every=args.poison_every,
        output=None if args.no_report else args.output,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    # The handlers create their own clients from the environment: the embedded server's credentials.
    os.environ.update({**FAKE_CREDENTIALS, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"})
    result = run_soak(options)
    command = "python -m faultlab.soak " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    section = render(result, command=command.strip())
    print(section)
    if options.output is not None:
        write_section(options.output, section)
        print(f"written to {options.output}")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
