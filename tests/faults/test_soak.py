"""``make soak``: its schedule, its report section, and a short run end to end."""

from __future__ import annotations

from faultlab import soak
from faultlab.soakreport import BEGIN, END, write_section


def test_every_period_has_a_burst_a_short_outage_and_every_other_one_a_long_outage():
    budget = soak.retry_budget(soak.SoakOptions(), 0.4)
    assert 4.0 < budget < 5.0  # 3 invocations of 1.5 s of writing, and two short waits
    windows = soak.plan_windows(150.0, budget)
    kinds = [w.kind for w in windows]
    assert kinds.count("throttling and 5xx burst") == 5
    assert kinds.count("outage within the retry budget") == 5
    long = [w for w in windows if w.kind == "outage beyond the retry budget"]
    assert len(long) == 3 and all(w.end - w.start > budget for w in long)
    assert all(w.end - w.start < budget for w in windows if w.kind == "outage within the retry budget")


def test_the_report_section_is_replaced_between_its_markers(tmp_path):
    doc = tmp_path / "reliability.md"
    doc.write_text(f"# Reliability\n\nintro\n\n{BEGIN}\nold result\n{END}\n\n## Later\n")
    write_section(doc, "new result\n")
    assert doc.read_text() == f"# Reliability\n\nintro\n\n{BEGIN}\nnew result\n{END}\n\n## Later\n"
    fresh = tmp_path / "fresh.md"
    write_section(fresh, "first\n")
    assert fresh.read_text() == f"{BEGIN}\nfirst\n{END}\n"


def test_a_short_soak_run_finds_no_difference_and_writes_its_report(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    report = tmp_path / "reliability.md"
    code = soak.main(
        [
            "--writes",
            "120",
            "--duration",
            "8",
            "--keys",
            "20",
            "--poison-every",
            "40",
            "--output",
            str(report),
        ]
    )
    text = report.read_text()
    assert code == 0, text
    assert "| differences at the end | **0** |" in text
    assert "problem(s)" not in text
    for kind in ("throttle", "server-error", "outage"):
        assert f"{kind} " in text
