"""`backfill` seeds a replica from a table that already holds data while replication runs."""

from __future__ import annotations

import json
import threading

from tests.support.cli import FAST, deliver_all, live_harness, run_cli
from tests.support.events import key
from tests.support.replication import scan_all

USERS = [f"user-{n:03d}" for n in range(60)]
OPTIONS = ["--no-progress", "--retry-seconds", "30", "--page-size", "5"]


def item(user, plan="free"):
    return {**key(user), "plan": {"S": plan}}


def existing_table(regions):
    """A source table that held data before replication started: its old records are never delivered."""
    for user in USERS:
        regions.source.put_item(TableName="Users", Item=item(user))
    regions.tap.read()
    return live_harness(regions)


def update_if_present(regions, user, plan):
    """Change an item, never re-create it: a key deleted during the test stays deleted."""
    if regions.source.get_item(TableName="Users", Key=key(user), ConsistentRead=True).get("Item"):
        regions.source.put_item(TableName="Users", Item=item(user, plan))


def users_in(client):
    return {i["user_id"]["S"]: i for i in scan_all(client, "Users")}


def test_backfill_during_a_live_workload_converges(regions, tmp_path):
    harness = existing_table(regions)
    lock = threading.Lock()
    steps = iter(range(10_000))
    deleted_before_write: list[str] = []

    def workload(segment, page):
        # Between pages: changes to keys already copied, not yet copied, and new keys, replicated at once.
        with lock:
            n = next(steps)
            update_if_present(regions, USERS[(n * 7) % 60], f"changed-{n}")
            regions.source.delete_item(TableName="Users", Key=key(USERS[(n * 11 + 3) % 60]))
            regions.source.put_item(TableName="Users", Item=item(f"new-{n}"))
            deliver_all(harness, regions)

    def race_the_writes(client):
        # Between a page's read and its writes: some keys are deleted or changed and replicated first.
        if client.meta.service_model.service_name != "dynamodb" or client.meta.region_name != "eu-west-1":
            return
        count = iter(range(10_000))

        def before_write(params, **_):
            put = params["TransactItems"][0].get("Put")
            n = next(count)
            if put is None or n % 6:
                return
            user = put["Item"]["user_id"]["S"]
            with lock:
                if n % 12 == 0:
                    regions.source.delete_item(TableName="Users", Key=key(user))
                    deleted_before_write.append(user)
                else:
                    update_if_present(regions, user, "raced")
                deliver_all(harness, regions)

        client.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", before_write)

    state = tmp_path / "backfill.json"
    result = run_cli(
        "backfill",
        *OPTIONS,
        "--segments",
        "2",
        "--state-file",
        str(state),
        on_page=workload,
        instrument=race_the_writes,
    )
    assert result.code == 0, result.stderr
    deliver_all(harness, regions)
    # THEN the replica converged: nothing stale, nothing resurrected
    assert run_cli("check", *FAST).code == 0
    replica = users_in(regions.replica)
    assert deleted_before_write and not set(deleted_before_write) & set(replica)  # not resurrected
    assert any(i["plan"]["S"] == "raced" for i in replica.values())
    saved = json.loads(state.read_text())
    skipped = sum(s["skipped"] for s in saved["segments"].values())
    assert skipped >= len(deleted_before_write)  # the stream got there first: left alone
    assert all(s["done"] for s in saved["segments"].values())


def test_an_interrupted_backfill_resumes_where_it_stopped(regions, tmp_path):
    existing_table(regions)
    state = tmp_path / "backfill.json"
    pages = []

    def interrupt(segment, page):
        pages.append((segment, page))
        if len(pages) == 3:
            raise KeyboardInterrupt  # the operator presses Ctrl-C

    # WHEN a backfill is interrupted after a few pages
    first = run_cli("backfill", *OPTIONS, "--segments", "2", "--state-file", str(state), on_page=interrupt)
    assert first.code == 2
    assert "interrupted" in first.stderr and "resumes" in first.stderr
    saved = json.loads(state.read_text())
    assert not all(s["done"] for s in saved["segments"].values())
    copied = len(users_in(regions.replica))
    assert 0 < copied < len(USERS)
    # THEN running it again finishes from the saved positions, without reading pages again
    second = run_cli("backfill", *OPTIONS, "--segments", "2", "--state-file", str(state))
    assert second.code == 0, second.stderr
    assert "resumed" in second.stdout
    saved = json.loads(state.read_text())
    assert sum(s["written"] for s in saved["segments"].values()) == len(USERS)
    assert sum(s["skipped"] for s in saved["segments"].values()) == 0  # no page was copied twice
    assert run_cli("check", *FAST).code == 0


def test_a_state_file_of_another_backfill_is_refused(regions, tmp_path):
    existing_table(regions)
    state = tmp_path / "backfill.json"
    assert run_cli("backfill", *OPTIONS, "--segments", "2", "--state-file", str(state)).code == 0
    result = run_cli("backfill", *OPTIONS, "--segments", "3", "--state-file", str(state))
    assert result.code == 2
    assert "--segments 2" in result.stderr
    state.write_text("{not json")
    result = run_cli("backfill", *OPTIONS, "--state-file", str(state))
    assert result.code == 2 and "is not a backfill state file" in result.stderr


def test_the_state_file_holds_positions_not_items(regions, tmp_path):
    existing_table(regions)
    state = tmp_path / "backfill.json"

    def stop(segment, page):
        raise KeyboardInterrupt

    run_cli("backfill", *OPTIONS, "--segments", "1", "--state-file", str(state), on_page=stop)
    saved = json.loads(state.read_text())
    (segment,) = saved["segments"].values()
    assert set(segment["start_key"]) == {"user_id", "timestamp"}  # a key: documented as such
    assert "plan" not in state.read_text()


def test_the_state_file_defaults_to_one_named_after_the_table(regions, tmp_path, monkeypatch):
    existing_table(regions)
    monkeypatch.chdir(tmp_path)
    result = run_cli("backfill", *OPTIONS)
    assert result.code == 0, result.stderr
    assert (tmp_path / "backfill-Users.json").exists()
    assert "backfill-Users.json" in result.stdout and "holds keys" in result.stdout
