"""``make mutate``'s wiring, on a handful of mutants so it cannot rot between full runs.

The full run (about 15 minutes) is not part of ``make test``. This one mutates one pure module,
runs a few of its mutants against its unit tests, and renders the report, in a copy of the tree:
mutmut writes its ``mutants/`` next to pyproject.toml, and the copy keeps parallel test workers and
a developer's own ``make mutate`` out of each other's way. No time is asserted.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

from faultlab import mutation
from faultlab.mutationreport import BEGIN, END, function_of

ROOT = Path(__file__).resolve().parents[2]
MODULE = "replicator/core/plan.py"
TESTS = ["tests/unit/test_replicator_plan.py"]
# The first three mutants of each function of the module (mutmut numbers them from 1 per function).
HANDFUL = "replicator.core.plan.*__mutmut_[1-3]"


def scoped_copy(target: Path) -> Path:
    """The tree mutmut needs, with [tool.mutmut] narrowed to one module and its unit tests."""
    text = (ROOT / "pyproject.toml").read_text()
    table = tomllib.loads(text)["tool"]["mutmut"]
    for name in [*table["source_paths"], *table["also_copy"], "tests", "docs/reliability.md"]:
        source, copy = ROOT / name, target / name
        if source.is_dir():
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        else:
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
    table = {**table, "only_mutate": [MODULE], "pytest_add_cli_args_test_selection": TESTS}
    head = text[: text.index("[tool.mutmut]")]
    lines = [f"{key} = {json.dumps(value)}" for key, value in table.items()]  # JSON strings are TOML strings
    (target / "pyproject.toml").write_text(head + "[tool.mutmut]\n" + "\n".join(lines) + "\n")
    return target


def test_a_few_mutants_of_the_plan_are_generated_killed_and_reported(tmp_path):
    # GIVEN a copy of the tree where mutmut mutates only the plan and runs only its unit tests
    root = scoped_copy(tmp_path / "tree")
    # WHEN a handful of its mutants run, and the report is written into the copy's docs
    outcome = mutation.run(mutation.Options(root=root, mutants=(HANDFUL,), quiet=True))
    # THEN mutmut ran to the end and generated mutants of every function of the module
    assert outcome.exit_code == 0
    judged = [r for r in outcome.results if r.status != "not checked"]
    assert {r.module for r in outcome.results} == {MODULE}
    assert {function_of(r.name) for r in judged} >= {"plan_batch", "_write_for"}
    assert len(judged) < len(outcome.results)  # only the handful ran
    # AND at least one was killed by the plan's tests
    assert any(r.status == "killed" for r in judged)
    # AND the report section was rewritten between its markers, naming the tool and the count
    doc = (root / "docs/reliability.md").read_text()
    section = doc.split(BEGIN, 1)[1].split(END, 1)[0]
    assert section.strip() == outcome.section.strip()
    assert f"| modules | `{MODULE}` |" in section
    assert f"| mutants | {len(outcome.results):,} generated:" in section
    assert "| tool | mutmut 3." in section
