"""The sharded benchmark's parts: the per-item throttle, the simulated clock, the hot-key arithmetic.

bench/throttle.py, bench/sharded.py and bench/hotkey.py. No AWS: the backend answers at the client.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bench import hotkey
from bench.sharded import InvocationClock, simulate
from bench.throttle import ItemWindows, ThrottlingBackend
from replicator.adapters.classify import classify
from replicator.core.errors import Throttled


def test_an_item_takes_its_limit_in_a_one_second_window_and_again_in_the_next():
    # GIVEN a limit of 3 writes per item per second
    windows = ItemWindows(limit=3)
    # WHEN one item is written five times in the first second and once at the start of the next
    first = [windows.admit(["a"], 0.1 * i) for i in range(5)]
    # THEN three are admitted, the rest refused; the next window admits again; another item is free
    assert first == [True, True, True, False, False]
    assert windows.admit(["a"], 1.0) is True
    assert windows.admit(["b"], 0.9) is True


def test_a_transaction_is_refused_whole_when_one_of_its_items_is_over_the_limit():
    windows = ItemWindows(limit=1)
    assert windows.admit(["hot"], 0.0) is True
    assert windows.admit(["cold", "hot"], 0.5) is False
    assert windows.admit(["cold"], 0.5) is True  # the refused transaction consumed nothing


def test_the_backend_throttles_like_dynamodb_and_the_replicator_retries_it():
    # GIVEN a backend whose items take one write a second
    backend = ThrottlingBackend({"state": ("pk",)}, clock=lambda: 0.0, windows=ItemWindows(limit=1))
    key = {"pk": {"S": "watermark#Users#3"}}
    backend.update_item(TableName="state", Key=key)
    # WHEN the same item is written again in the same second
    with pytest.raises(ClientError, match="ProvisionedThroughputExceededException") as raised:
        backend.update_item(TableName="state", Key=key)
    # THEN the error carries DynamoDB's reason, the replicator classifies it as throttling, and both count
    response: dict[str, Any] = dict(raised.value.response)
    assert response["ThrottlingReasons"][0]["reason"] == "TableWriteKeyRangeThroughputExceeded"
    assert isinstance(classify(raised.value), Throttled)
    item = backend.item_of("state", key)
    assert backend.writes[(item, 0)] == 1 and backend.throttles[(item, 0)] == 1


def test_each_thread_of_an_invocation_has_its_own_simulated_time():
    # GIVEN an invocation starting at t = 10
    clock = InvocationClock()
    clock.begin(10.0)
    seen: list[float] = []

    def retrying() -> None:
        clock.sleep(0.5)
        clock.sleep(0.25)
        seen.append(clock.now())

    # WHEN another thread sleeps 0.75 s in backoff
    worker = threading.Thread(target=retrying)
    worker.start()
    worker.join()
    # THEN that thread is at 10.75, this one still at 10, and the invocation lasts its longest sleeper
    assert seen == [10.75]
    assert clock.now() == 10.0
    assert clock.longest == 0.75
    clock.begin(20.0)
    assert (clock.now(), clock.longest) == (20.0, 0.0)


def test_one_mark_item_throttles_where_buckets_do_not_need_to():
    # GIVEN 20 shards invoked 10 times a second against items that take 50 writes a second
    def run(buckets: int) -> dict[str, Any]:
        return simulate(buckets, shards=20, batch_size=2, horizon=1.0, seed=1, item_limit=50)

    single, spread = run(1), run(32)
    # THEN one mark item is throttled and takes every state write; with buckets, several items share them
    assert single["state_throttled"] > 0
    assert single["busiest_state_share"] == 1.0
    assert spread["busiest_state_share"] < 1.0
    assert single["data_throttled"] == spread["data_throttled"] == 0
    assert spread["invocations"] > single["invocations"]


def test_binomial_tails_are_exact():
    # X ~ Binomial(2, 1/2): P(X >= 1) = 3/4, P(X >= 2) = 1/4
    assert hotkey.binomial_tail(2, 2, 1) == 0.75
    assert hotkey.binomial_tail(2, 2, 2) == 0.25
    assert hotkey.binomial_tail(2, 2, 0) == 1.0
    assert hotkey.binomial_tail(2, 2, 3) == 0.0
    assert hotkey.chance_any_bucket_at_least(2, 2, 1) == 1.0  # the union bound is capped at 1


def test_the_busiest_bucket_is_counted_over_the_writers_own_choices():
    choices = hotkey.draw(64, 4)
    assert set(choices) <= set(range(4))
    assert hotkey.busiest([0, 0, 1, 2]) == 2
    share = hotkey.share_at(128, 32, trials=5)
    assert 1 / 32 <= share["mean_share"] <= share["worst_share"] <= 1.0
