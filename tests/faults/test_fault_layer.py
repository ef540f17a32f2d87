"""The fault layer itself, on in-process moto: each fault kind does what it claims, seeded."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from faultlab.faults import FaultInjector, FaultKind, FaultRates, SimulatedCrash
from faultlab.ledger import ORIGIN_HEADER

TABLE = "Users"
# As the replicator's client: botocore retries nothing, so every injected fault reaches the caller.
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def client(regions):
    return boto3.client("dynamodb", region_name="eu-west-1", config=NO_RETRIES)


def item(n: int) -> dict[str, Any]:
    return {"user_id": {"S": f"u{n}"}, "timestamp": {"N": "1"}, "repl:version": {"S": f"{n:040d}"}}


def outcome(call) -> str:
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"]
    except (ReadTimeoutError, EndpointConnectionError, ConnectTimeoutError) as exc:
        return type(exc).__name__
    return "ok"


def fates(client, seed: int, rates: FaultRates) -> list[str]:
    injector = FaultInjector(client, seed=seed, rates=rates)
    try:
        return [outcome(lambda n=n: client.put_item(TableName=TABLE, Item=item(n))) for n in range(40)]
    finally:
        injector.remove()


RATES = FaultRates(throttle=0.2, server_error=0.2, timeout=0.1, lost_reply=0.1)


def test_the_same_seed_gives_every_request_the_same_fate(client):
    first = fates(client, 5, RATES)
    assert first == fates(client, 5, RATES)
    assert first != fates(client, 6, RATES)
    assert {"ok", "ReadTimeoutError"} <= set(first)
    assert {"ThrottlingException", "ProvisionedThroughputExceededException"} & set(first)
    assert {"InternalServerError", "ServiceUnavailable"} & set(first)


def test_a_lost_reply_means_the_write_happened_and_the_caller_saw_a_timeout(client):
    injector = FaultInjector(client, seed=1, rates=FaultRates(lost_reply=1.0), item_table=TABLE)
    with (
        injector.invocation("req-1") as state,
        pytest.raises(ReadTimeoutError, match="Read timeout on endpoint URL"),
    ):
        client.put_item(TableName=TABLE, Item=item(1))
    injector.remove()
    stored = client.get_item(TableName=TABLE, Key={"user_id": {"S": "u1"}, "timestamp": {"N": "1"}})
    assert stored["Item"] == item(1)
    assert (state.lost_write_replies, state.acknowledged_writes) == (1, 0)
    assert injector.injected == {FaultKind.LOST_REPLY: 1}


def test_a_timeout_before_sending_means_the_write_did_not_happen(client):
    injector = FaultInjector(client, seed=1, rates=FaultRates(timeout=1.0))
    with pytest.raises(ReadTimeoutError, match="Read timeout on endpoint URL"):
        client.put_item(TableName=TABLE, Item=item(2))
    injector.remove()
    assert "Item" not in client.get_item(
        TableName=TABLE, Key={"user_id": {"S": "u2"}, "timestamp": {"N": "1"}}
    )


def test_an_outage_makes_the_region_unreachable_for_its_window_only():
    now = [100.0]
    client = boto3.client(
        "dynamodb", region_name="eu-west-1", endpoint_url="https://replica.invalid", config=NO_RETRIES
    )
    injector = FaultInjector(client, seed=3, clock=lambda: now[0]).outage(100.0, 105.0)
    errors = {outcome(lambda: client.describe_table(TableName=TABLE)) for _ in range(12)}
    assert errors == {"EndpointConnectionError", "ConnectTimeoutError"}
    assert injector.injected == {FaultKind.OUTAGE: 12} and injector.in_outage()
    now[0] = 105.0
    assert not injector.in_outage()


def test_a_burst_replaces_the_base_rates_for_its_window(client):
    now = [0.0]
    injector = FaultInjector(client, seed=2, clock=lambda: now[0]).burst(10.0, 20.0, FaultRates(throttle=1.0))
    put = [lambda n=n: client.put_item(TableName=TABLE, Item=item(n)) for n in range(3)]
    assert outcome(put[0]) == "ok"
    now[0] = 10.0
    assert outcome(put[1]) in {"ThrottlingException", "ProvisionedThroughputExceededException"}
    now[0] = 20.0
    assert outcome(put[2]) == "ok"
    assert injector.injected == {FaultKind.THROTTLE: 1}


def test_latency_delays_the_request_by_a_drawn_amount(client):
    waits: list[float] = []
    rates = FaultRates(latency=1.0, latency_seconds=(0.2, 0.3))
    FaultInjector(client, seed=4, rates=rates, sleep=waits.append)
    client.put_item(TableName=TABLE, Item=item(6))
    assert len(waits) == 1 and 0.2 <= waits[0] <= 0.3


def test_a_crash_armed_for_an_invocation_stops_it_after_that_many_requests(client):
    injector = FaultInjector(client, seed=1, item_table=TABLE, origin="fn")
    seen: list[str] = []
    client.meta.events.register(
        "before-send.dynamodb", lambda request, **_: seen.append(request.headers[ORIGIN_HEADER])
    )
    with injector.invocation("req-1", crash_after=2) as state:
        client.put_item(TableName=TABLE, Item=item(7))
        client.put_item(TableName=TABLE, Item=item(8))
        with pytest.raises(SimulatedCrash, match="crash before request 3 of the invocation"):
            client.put_item(TableName=TABLE, Item=item(9))
        with pytest.raises(SimulatedCrash, match="crash before request 4 of the invocation"):
            client.put_item(TableName=TABLE, Item=item(10))
    assert state.crashed and state.acknowledged_writes == 2 and injector.injected == {FaultKind.CRASH: 1}
    with injector.invocation("req-2") as later:
        client.put_item(TableName=TABLE, Item=item(9))
    assert later.acknowledged_writes == 1
    assert seen[:2] == ["fn/req-1", "fn/req-1"] and seen[-1] == "fn/req-2"


def test_an_injected_error_is_not_also_applied_by_the_in_process_mock(regions):
    # botocore gives every before-send handler the request; moto's mock must not run it too.
    client = boto3.client(
        "dynamodb", region_name="eu-west-1", config=Config(retries={"total_max_attempts": 1})
    )
    injector = FaultInjector(client).throttle_first(1)
    item = {"user_id": {"S": "a"}, "timestamp": {"N": "1"}}
    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        client.put_item(TableName="Users", Item=item)
    assert regions.replica.scan(TableName="Users")["Count"] == 0
    client.put_item(TableName="Users", Item=item)  # the next request goes through to moto
    assert regions.replica.scan(TableName="Users")["Count"] == 1
    injector.remove()
    client.put_item(TableName="Users", Item=item)  # and moto still answers once we are gone
