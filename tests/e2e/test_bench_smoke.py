"""The benchmarks run in quick mode and produce every figure (no timing is asserted)."""

from __future__ import annotations

from bench.__main__ import BENCHMARKS, main


def test_quick_benchmarks_produce_every_figure(tmp_path, capsys):
    output = tmp_path / "benchmarks.md"
    assert main(["--quick", "--output", str(output)]) == 0
    text = output.read_text()
    for heading in (
        "Pipeline capacity at cross-region latency",
        "Hot keys",
        "End to end on the embedded server",
        "Metrics consumer",
        "Consistency check",
        "Memory",
        "A saturated shard far away",
        "Cost per replicated change",
        "Sharded: the replicator's own state under DynamoDB's per-item limit",
    ):
        assert f"{heading}" in text
    assert "Reproduce:" in text
    assert "None" not in text and "nan" not in text.lower()
    assert set(BENCHMARKS) >= {
        "replication",
        "end_to_end",
        "metrics_consumer",
        "check_throughput",
        "saturated",
        "cost",
        "sharded",
    }
