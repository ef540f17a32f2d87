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

A batch of {t["records"]} MODIFY records of distinct keys (and, in the same run, the same batch as
INSERTs, which read their tombstones before the puts), every replica call answered by a backend that
costs nothing but an injected {t["latency_ms"]:.0f} ms round trip (the us-east-1 to eu-west-1
distance). Baseline: a naive replicator, one unconditional PutItem per record, in order.

{
        _table(
            [
                ("records / s", f"{t['ours_records_per_s']}", f"{t['naive_records_per_s']}"),
                ("ratio ours / naive", f"**{t['ratio']}x**", ""),
                ("records / s, INSERTs", f"{t['ours_insert_records_per_s']}", f"{t['naive_records_per_s']}"),
                ("ratio ours / naive, INSERTs", f"**{t['insert_ratio']}x**", ""),
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

Reproduce: `.venv/bin/python -m bench.saturated` (`--quick`: 1.5 s runs instead of 10 s).
"""


def _meets(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return f"at most {target}: {'**met**' if value <= target else '**missed**'}"


def _dollars(d: dict[str, Any]) -> str:
    parts = " + ".join(f"{d[part]:.3f}" for part in ("requests", "transfer", "compute") if d[part])
    return f"{parts} = **${d['total']:.3f}**"


def cost(results: dict[str, Any]) -> str:
    c = results["cost"]
    first = c["mixes"][0]
    units = [
        "| mix | WRU / change | RRU / change | **write-unit equivalents / change** | before this change | "
        "Global Tables (rWRU) | target |",
        "|---|---|---|---|---|---|---|",
    ]
    money = [
        "| mix | ours: requests + transfer + Lambda | before this change | Global Tables: rWRU + transfer | "
        "ours / Global Tables |",
        "|---|---|---|---|---|",
    ]
    for m in c["mixes"]:
        ours, before, gt = m["designs"]["ours"], m["designs"]["before"], m["global_tables"]
        units.append(
            f"| {m['mix']} ({m['composition']}) | {ours['wru']} | {ours['rru']} | **{ours['weq']}** | "
            f"{before['weq']} | {gt['rwru']} | {_meets(ours['weq'], m['target_weq'])} |"
        )
        ratio = ours["dollars"]["total"] / gt["dollars"]["total"]
        money.append(
            f"| {m['mix']} | {_dollars(ours['dollars'])} | ${before['dollars']['total']:.3f} | "
            f"{_dollars(gt['dollars'])} | {ratio:.2f}x |"
        )
    t = c["ttl"]
    replicate, expire = t["designs"]["ours"], t["designs"]["expire"]
    p = c["prices"]
    seconds = ", ".join(
        f"{m['mix']} {m['designs']['ours']['seconds_per_batch']} s (before: {m['designs']['before']['seconds_per_batch']} s)"
        for m in c["mixes"]
    )
    return f"""## 8. Cost per replicated change

Generated histories of the `Users` table (items of about {first["item_bytes"]} bytes, all under 1 KB
with the replicator's version attribute), {first["changes"]} changes per mix, delivered on first
delivery in batches of {c["batch_size"]}, each batch touching every row at most once (no change is
coalesced away). The real replicator writes them into moto, and every request it sends is priced by
DynamoDB's capacity rules (`bench/capacity.py`: standard writes 1 WRU per KB of the larger of the
old and new item, a failed condition still billed; transactional writes 2 WRU per KB per action,
ConditionCheck included; consistent reads 1 RRU per 4 KB per item, a missing item 1). Baselines in
the same run, on the same stream records: the protocol before this change (`bench/before.py`: INSERT
and REMOVE as two-action transactions, MODIFY as one PutItem, one mark item written per
invocation), re-implemented and priced by the same meter; and Global Tables, 1 replicated WRU per
KB of each change. Write-unit equivalents = WRU + 0.2 x RRU (the on-demand price ratio). Every
replica is compared with the source after the run.

{chr(10).join(units)}

Dollars per million replicated changes of items up to 1 KB (on-demand). Transfer: the HTTP bytes
our requests and answers carried, measured ({first["designs"]["ours"]["http_bytes"]} per change on
the first mix, SigV4 headers included), and 1 KB per change for Global Tables. Lambda:
{c["memory_mb"]} MB (the deployment's memory) for the time one batch took with every request
answered after a {c["latency_ms"]:.0f} ms round trip, measured: {seconds}; plus the per-request
price for one invocation per batch.

{chr(10).join(money)}

TTL deletes, on a history of {t["composition"]} ({t["changes"]} changes):

| TTL_DELETES | WRU / change | RRU / change | write-unit equivalents / change | $ per million changes |
|---|---|---|---|---|
| replicate (a TTL delete is a REMOVE: tombstone + delete, 2 WRU) | {replicate["wru"]} | {replicate["rru"]} | {replicate["weq"]} | ${replicate["dollars"]["total"]:.3f} |
| expire (a TTL delete writes nothing: 0 WRU; the replica's own TTL removes the item) | {expire["wru"]} | {expire["rru"]} | **{expire["weq"]}** | ${expire["dollars"]["total"]:.3f} |

Prices as of {p["as_of"]}: write unit ${p["write_unit_per_million"]} and replicated write unit
${p["replicated_write_unit_per_million"]} per million, read unit ${p["read_unit_per_million"]} per
million, transfer ${p["transfer_per_gb"]} per GB, Lambda arm64 ${p["lambda_gb_second"]:.10f} per GB-second and
${p["lambda_requests_per_million"]:.2f} per million requests. Source: {p["source"]}.

Two things the per-change figures hide: an item within 52 bytes of a KB boundary costs one more
WRU per write in our replica than under Global Tables (the version attribute crosses it), and a
transaction cancelled by a condition is priced like a committed one (no first delivery here cancels
one). Reproduce: `.venv/bin/python -m bench.cost`.
"""


def sharded(results: dict[str, Any]) -> str:
    s = results["sharded"]
    ours, single = s["designs"]["buckets"], s["designs"]["single"]
    at128, at1000 = s["at_128"], s["at_1000"]

    def row(label: str, key: str, fmt: str = "{}") -> tuple[str, str, str]:
        return (label, fmt.format(ours[key]), fmt.format(single[key]))

    rows = [
        row("invocations / s (ended within the horizon)", "invocations_per_s"),
        row("records / s", "records_per_s"),
        (
            "state writes throttled (mark)",
            f"{ours['state_throttled']} ({ours['state_throttled_share'] * 100:.1f}% of attempts)",
            f"**{single['state_throttled']}** ({single['state_throttled_share'] * 100:.1f}% of attempts)",
        ),
        row("busiest state item's share of state writes", "busiest_state_share", "{:.1%}"),
        row("mean invocation time, simulated (ms)", "mean_invocation_ms"),
        row("longest invocation, simulated (s)", "longest_invocation_s"),
        row("batches failed", "failed_batches"),
        row("data writes throttled", "data_throttled"),
        row("mark buckets in use", "buckets_used"),
    ]
    if single["state_throttled"]:
        consequence = (
            f"It refused {single['state_throttled_share']:.0%} of the attempts in the measured seconds, "
            f"invocations waited in backoff for up to {single['longest_invocation_s']} s, and the shards "
            f"completed {ours['invocations'] / max(1, single['invocations']):.1f}x fewer invocations than "
            "with 32 buckets, where no state item comes near the limit."
        )
    else:
        consequence = "This run was too short to reach the limit (a quick run)."
    table = ["| measure | mark in 32 buckets (now) | one mark item (before) |", "|---|---|---|"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return f"""## 9. Sharded: the replicator's own state under DynamoDB's per-item limit

{s["shards"]} simulated shards, each its own replicator and execution environment (so its own
random mark bucket), invoked back to back on batches of {s["batch_size"]} distinct keys against a
zero-latency backend that, as DynamoDB does, throttles any item written more than
{s["item_limit"]} times in one second (`bench/throttle.py`, fixed one-second windows per item,
`ProvisionedThroughputExceededException`). Time is simulated: an invocation takes
{s["invocation_s"] * 1000:.0f} ms plus its backoff sleeps, invocations start for
{s["horizon_s"]:g} s, and the rates count those that ended by then. Both designs in the same run;
the replicator's own retries, deadline and batch failure apply.

{chr(10).join(table)}

With one mark item, every invocation of every shard writes the same item: the shards together
offer up to {s["shards"] / s["invocation_s"]:.0f} mark writes a second to an item that takes
{s["item_limit"]}. {consequence}

Hot-key share at {at128["environments"]} execution environments (each invoked at the same rate,
each picking its bucket with the replicator's own random choice, {at128["trials"]} fleets drawn):
the busiest state item takes {at128["mean_share"]:.1%} of the writes on average and
{at128["worst_share"]:.1%} in the worst fleet drawn (one mark item: 100%). The floor is
{at128["floor"]:.1%}; the chance that a fleet breaks it is at most
{at128["chance_above_floor"]:.1e} (union bound over buckets, exact binomial tails).

{at1000["environments"]} shards x {at1000["rate_per_environment"]:g} invocations per second over
{at1000["buckets"]} buckets: {at1000["expected_per_bucket"]} mark writes per second per bucket
expected, {at1000["mean_busiest"]} on the busiest bucket on average and {at1000["worst_busiest"]}
in the worst of {at1000["trials"]} fleets drawn, against half the per-item limit,
{at1000["half_limit"]:.0f}; the chance of exceeding it is at most {at1000["chance_above_half"]:.1e}.
One mark item would take {at1000["single_mark"]:.0f} writes per second.

Reproduce: `.venv/bin/python -m bench.sharded`.
"""


def export_check(results: dict[str, Any]) -> str:
    e = results["export_check"]
    rows = [
        ("items compared (both tables)", f"{e['compared']:,}", f"{e['compared']:,}"),
        ("seconds", f"{e['ours_seconds']:,.0f}", f"{e['baseline_seconds']:,.0f}"),
        ("items / s", f"{e['ours_rate']:,.0f}", f"{e['baseline_rate']:,.0f}"),
        ("ratio ours / baseline", f"**{e['ratio']:.2f}x**", ""),
        (
            "peak RSS of the Python process (Spark's JVM apart: its default 1 GB heap)",
            f"{e['rss_ours_mb']:,.0f} MB",
            f"{e['rss_baseline_mb']:,.0f} MB",
        ),
    ]
    emr = [
        (
            f"{vcpus} vCPU ({v['workers']} workers of 4 vCPU)",
            f"{v['minutes']:,.0f} min",
            f"${v['dollars']:,.2f}",
        )
        for vcpus, v in e["emr"].items()
    ]
    return f"""## 10. The export check at scale

`jobs/export_compare.py` on `local[*]` ({e["cores"]} cores) comparing two generated exports of
{e["items"]:,} items each (written by `replicator/exports/writer.py` in AWS's layout, 50,000 items per
gzip data file: {e["gz_bytes"] / 1e6:,.0f} MB compressed, {e["json_bytes"] / 1e9:,.2f} GB of JSON; generated
in {e["generate_seconds"]:,.0f} s), with one missing, one extra and one different key per 100,000
seeded. Baseline, same run and data: one Python process reading both exports file by file and
pairing the items in a dict, the same rule (`replicator/core/compare.py`). Both found exactly the
seeded differences ({e["differences"]}).

| measure | Spark job (ours) | one process |
|---|---|---|
{chr(10).join(f"| {a} | {b} | {c} |" for a, b, c in rows)}

Per item, the job does the loop's Python work plus moving each row between the JVM and its Python
workers and shuffling the join; it wins here only by using both cores. What it buys is that the work
splits over any number of cores and machines, and that memory does not grow with the table: the
one-process baseline holds every unpaired item (about 1 GB per million items here), the job's
driver holds nothing of the tables (the executors spill to disk). At this run's rate, 10 million items a
side take about {2 * 10_000_000 / e["ours_rate"] / 60:,.0f} minutes on this 2-core machine (`make bench` runs 4,000,000
a side, to keep its run short; the figures above are from `--items {e["items"]}`).

**1 billion items a side on EMR Serverless**, extrapolated from the rate per core measured here,
{e["per_core_rate"]:,.0f} items per second (both tables' items), assuming it holds per vCPU on
EMR's workers, plus 2 minutes of start-up; priced at us-east-1 arm64 rates ($0.042094 per
vCPU-hour, $0.004628 per GB-hour, 4 GB per vCPU; check https://aws.amazon.com/emr/pricing/):

| application size | time | Spark cost |
|---|---|---|
{chr(10).join(f"| {a} | {b} | {c} |" for a, b, c in emr)}

The cost hardly moves with the size: the same vCPU-hours, spread wider. The exports themselves cost
more ($0.10 per GB of each table; docs/operations.md compares both checks at 10M, 100M and 1B
items). Reproduce: `.venv/bin/python -m bench.export_check --items {e["items"]}`.
"""


SECTIONS: list[tuple[str, Section]] = [
    ("replication", throughput),
    ("replication", hot_keys),
    ("end_to_end", end_to_end),
    ("metrics_consumer", metrics),
    ("check_throughput", check),
    ("replication", memory),
    ("saturated", saturated),
    ("cost", cost),
    ("sharded", sharded),
    ("export_check", export_check),
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
