"""Render benchmark figures as the Markdown of docs/benchmarks.md. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

Section = Callable[[dict[str, Any]], str]


def _table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| measure | ours | baseline |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def throughput(results: dict[str, Any]) -> str:
    t = results["replication"]["throughput"]
    return f"""## 1. Pipeline capacity at cross-region latency

A batch of {t["records"]} records of distinct keys, every replica call answered by a backend that
costs nothing but an injected {t["latency_ms"]:.0f} ms round trip (the us-east-1 to eu-west-1
distance). Baseline: a naive replicator, one unconditional PutItem per record, in order.

{
        _table(
            [
                ("records / s", f"{t['ours_records_per_s']}", f"{t['naive_records_per_s']}"),
                ("ratio ours / naive", f"**{t['ratio']}x**", ""),
                (
                    "limit: in-flight writes / round trip",
                    f"{t['concurrency']} / {t['latency_ms']:.0f} ms = {t['limit_records_per_s']}",
                    "",
                ),
                ("fraction of the limit", f"**{t['fraction_of_limit'] * 100:.1f}%**", ""),
                ("writes in flight at most (observed)", f"{t['max_in_flight']}", "1"),
            ]
        )
    }

Reproduce: `.venv/bin/python -m bench.replication` (add `--latency-ms N` for another distance).
"""


def hot_keys(results: dict[str, Any]) -> str:
    h = results["replication"]["hot_keys"]
    return f"""## 2. Hot keys

The mobile-app shape: {h["records"]} records over {h["distinct_keys"]} keys in one batch, at
{h["latency_ms"]:.0f} ms. Only the newest state of each key is written.

{
        _table(
            [
                ("writes issued", f"{h['writes_issued']}", f"{h['records']} (one per record)"),
                ("writes per record", f"**{h['writes_per_record']}**", "1"),
                ("records / s", f"{h['records_per_s']}", ""),
            ]
        )
    }

Reproduce: `.venv/bin/python -m bench.replication`.
"""


def end_to_end(results: dict[str, Any]) -> str:
    e = results["end_to_end"]
    return f"""## 3. End to end on the embedded server

The whole local pipeline (workload, source table, stream, the local event source mapping, the real
replicator and metrics consumer, the replica) on the embedded moto server, for {e["duration_s"]:.0f} s
at an offered {e["offered_writes_per_s"]:.0f} writes/s, with {e["latency_ms"]:.0f} ms injected before every
replica call. Baseline, same run: the embedded server's raw capacity for conditional PutItem (8
client threads, no latency, a fresh server).

| measure | value |
|---|---|
| source writes achieved | {e["writes"]} ({e["achieved_writes_per_s"]} / s) |
| records processed by the replicator | {e["records_per_s"]} / s ({e["records_replicated"]:.0f} replicated, {e["records_skipped"]:.0f} skipped) |
| replication lag p50 / p99 | {e["lag_p50_ms"]} ms / {e["lag_p99_ms"]} ms |
| caught up after the load | {"yes" if e["caught_up"] else "**no**"} |
| embedded server's raw conditional-put capacity | {e["raw_put_capacity_per_s"]} / s |
| replica writes as a fraction of that capacity | {e["fraction_of_capacity"] * 100:.1f}% |

The replicator processes every record the workload manages to write and stays caught up; the
limit is the embedded server itself, which handles one request at a time (moto's backends are not
thread-safe) and serves the source writes, stream reads, replica writes and metrics of the whole
system. The replicator alone has far more room (section 1). Lag includes up to 1 s of rounding:
DynamoDB stamps records to the second.

Reproduce: `.venv/bin/python -m bench.end_to_end`.
"""


def metrics(results: dict[str, Any]) -> str:
    m = results["metrics_consumer"]
    return f"""## 4. Metrics consumer

One batch of {m["records"]} records through the real handler (parsing included), against a naive
emitter writing one EMF document per record with the same library. CPU time is process time, best
of several runs.

{
        _table(
            [
                ("CPU per record", f"{m['cpu_us_per_record']} us", f"{m['naive_cpu_us_per_record']} us"),
                ("EMF documents", f"{m['emf_documents']}", f"{m['naive_emf_documents']}"),
                (
                    "EMF bytes per record",
                    f"{m['emf_bytes_per_record']}",
                    f"{m['naive_emf_bytes_per_record']}",
                ),
                ("ratio naive / ours (CPU)", f"**{m['cpu_ratio_naive_to_aggregated']}x**", ""),
                ("ratio naive / ours (bytes)", f"**{m['bytes_ratio_naive_to_aggregated']}x**", ""),
            ]
        )
    }

Reproduce: `.venv/bin/python -m bench.metrics_consumer`.
"""


def check(results: dict[str, Any]) -> str:
    c = results["check_throughput"]
    rows = [
        (f"items / s, {n} segment(s)", f"{c[f'check_items_per_s_{n}_segments']}", f"{c['naive_items_per_s']}")
        for n in (1, 2, 4)
    ]
    rows += [
        (f"ratio ours / naive, {n} segment(s)", f"**{c[f'ratio_to_naive_{n}_segments']}x**", "")
        for n in (1, 2, 4)
    ]
    rows.append(("scan-only ceiling of the servers", f"{c['scan_only_ceiling_items_per_s']} / s", ""))
    best = max(c[f"check_items_per_s_{n}_segments"] for n in (1, 2, 4)) / c["scan_only_ceiling_items_per_s"]
    return f"""## 5. Consistency check

`python -m replicator check` on two identical tables of {c["items"]} items, each region in its own
moto server process, {c["injected_latency_ms_per_request"]:.0f} ms injected before every request (the
network). Baseline, same run and data: scan the source on one thread and GetItem each key from the
replica (what diff-tables-style tools do). Ceiling: both tables merely scanned at once, no latency.

{_table(rows)}

The best check run reaches {best * 100:.0f}% of that ceiling. On this machine ({c["cpus"]} CPUs) the moto
servers' CPU, not the client or the network, bounds every figure, so more segments cannot help here
as they do against DynamoDB, where each segment is served by other partitions. Reproduce:
`.venv/bin/python -m bench.check_throughput`.
"""


def memory(results: dict[str, Any]) -> str:
    m = results["replication"]["memory"]
    return f"""## 6. Memory

Peak Python memory (tracemalloc) of one replicator invocation, from the event's JSON text on.

| measure | value |
|---|---|
| {m["small_records"]} small records: event size | {m["small_event_mb"]} MB |
| {m["small_records"]} small records: peak | {m["small_peak_mb"]} MB ({m["small_peak_kb_per_record"]} KB per record) |
| records of items near 400 KB (new and old image): size in the event | {m["big_record_kb"]} KB each |
| records of items near 400 KB: peak | {m["big_peak_kb_per_record"]} KB per record |
| largest such batch in {m["lambda_memory_mb"]} MB (minus ~100 MB of runtime) | {m["largest_big_batch_in_memory"]} records |
| largest such batch Lambda can deliver (6 MB invocation payload) | **{m["largest_big_batch_in_payload"]} records** |

The configured memory is not the limit: Lambda's 6 MB invocation payload caps a batch of large
items long before memory does. Memory is set by `replicatorMemoryMb` in `cdk.json` (it also sets
the CPU share, which matters more for throughput). Reproduce: `.venv/bin/python -m bench.replication`.
"""


def _calls(calls: dict[str, float]) -> str:
    return ", ".join(f"{op} {n:g}" for op, n in calls.items())


def saturated(results: dict[str, Any]) -> str:
    r = results["saturated"]
    rows = [
        "| region pair (round trip) | factor | records / s processed | backlog at end / max | lag at end / max "
        "| backlog growth, 2nd half | bounded | modelled capacity | replica calls per record |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in r["runs"]:
        factor = f"**{run['parallelization_factor']}** (chosen)" if run["chosen"] else "1 (baseline)"
        rows.append(
            f"| {run['pair']} ({run['round_trip_ms']:.0f} ms) | {factor} | {run['records_per_s']} "
            f"| {run['backlog_end']} / {run['backlog_max']} | {run['lag_end_ms']} ms / {run['lag_max_ms']} ms "
            f"| {run['backlog_growth_per_s']} / s | {'**yes**' if run['bounded'] else 'no'} "
            f"| {run['model_records_per_s']} / s | {_calls(run['calls_per_record'])} |"
        )
    cpu = max(run["host_cpus_used"] for run in r["runs"])
    per_record = max(run["cpu_ms_per_record"] for run in r["runs"])
    table = "\n".join(rows)
    return f"""## 7. A saturated shard far away

One shard fed {r["rate"]} records/s of distinct keys (INSERTs; one partition accepts about that many
writes) for {r["duration_s"]:.0f} s, split by a hash of the item key into ParallelizationFactor lanes as
Lambda does. Each lane runs in its own process, as each concurrent batch runs in its own execution
environment, and hands the real replicator batches of at most {r["batch_size"]} records (`batchSize`) and at
most what has arrived, one invocation at a time, {r["writes_in_flight"]} writes in flight; an idle lane looks
again after 250 ms (Lambda's polling). Every replica call is answered after the round trip
(`bench/backend.py`), before botocore signs it: the lanes share this host's {r["host_cpus"]} CPUs, where
each Lambda environment has its own. Each region pair runs with the factor `deployconfig/sizing.py`
chooses for it and, in the same run, with 1 (the mapping's default).

{table}

Backlog: records arrived and not yet replicated; lag: the age of the oldest of them. Bounded: over
the second half of the run the backlog grew by less than 5% of the offered rate (a backlog left from
the start, when every lane begins with a one-record batch, drains while it is bounded). Modelled
capacity: what `deployconfig/sizing.py` expects the lanes to drain when backlogged (two round trips
for the first {r["writes_in_flight"]} records of a batch, one per further {r["writes_in_flight"]}, 20 ms per
invocation); the replicator measured is the one in this tree, whose requests per record are listed.
The lanes used at most {cpu} of this host's CPUs ({per_record} ms of CPU per record at most).

Reproduce: `.venv/bin/python -m bench.saturated` (`--quick`: 3 s runs instead of 10 s).
"""


SECTIONS: list[tuple[str, Section]] = [
    ("replication", throughput),
    ("replication", hot_keys),
    ("end_to_end", end_to_end),
    ("metrics_consumer", metrics),
    ("check_throughput", check),
    ("replication", memory),
    ("saturated", saturated),
]


def render(results: dict[str, Any], *, quick: bool, when: dt.datetime, machine: str) -> str:
    parts = [
        "# Benchmarks\n",
        f"Written by `make bench` on {when:%Y-%m-%d %H:%M} UTC ({machine}"
        f"{', quick mode' if quick else ''}). Every comparison runs the baseline and our code in the same "
        "run; absolute numbers on a shared machine are noisy, the ratios are the point. Regenerate all "
        "of it with `make bench`.\n",
    ]
    parts += [section(results) for key, section in SECTIONS if key in results]
    return "\n".join(parts)
