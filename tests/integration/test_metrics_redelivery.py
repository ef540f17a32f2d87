"""Within a tumbling window, any pattern of split and repeated deliveries counts each record once.

Lambda reads a shard in order and, after a retry, resumes from a checkpoint at or before where it
got to: so a delivery is a contiguous run of the stream starting anywhere from the start of the
stream up to the first record not yet delivered, and of any length. Hypothesis draws such
patterns; whatever the pattern, the window's metrics must equal the ground truth.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.support.consumer import Run, assert_active_users, assert_rate_metrics, minute, workload
from tests.support.events import malformed_records
from tests.support.usage import UsageModel, windowed

# (how far back the checkpoint is, how many records the batch holds)
DELIVERIES = st.lists(st.tuples(st.integers(0, 30), st.integers(1, 25)), max_size=10)


def test_any_redelivery_pattern_counts_each_record_once(regions):
    # GIVEN one shard's records (changes, TTL deletes, malformed records), read once from moto
    model = UsageModel(regions.source, regions.config.table_name, regions.tap)
    workload(model, 0, 30)
    records: list[dict[str, Any]] = model.read_event()["Records"]
    last = int(records[-1]["dynamodb"]["SequenceNumber"])
    records += malformed_records(regions.stream_arn, last + 1, 3)
    table = regions.config.table_name

    @given(DELIVERIES)
    def deliver(pattern: list[tuple[int, int]]) -> None:
        run = Run()
        start, progress = minute(run.now), 0
        state: dict[str, Any] = {}
        # WHEN the window receives the drawn batches, then whatever was never delivered, then closes
        for back, size in [*pattern, (0, len(records))]:
            begin = max(0, progress - back)
            batch = records[begin : begin + size]
            if batch:
                state = run(windowed({"Records": batch}, start, state))["state"]
                progress = max(progress, begin + len(batch))
        run(windowed({"Records": []}, start, state, final=True))

        # THEN every series equals the ground truth: nothing twice, nothing lost
        assert_rate_metrics(run.series(), model.expected, table, malformed=3)
        assert_active_users(run.series(), model.expected, table)

    deliver()
