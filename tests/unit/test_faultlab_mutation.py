"""``make mutate``'s report: stable descriptions of mutants, equivalents, verdicts and the section."""

from __future__ import annotations

import datetime as dt

import pytest

from faultlab.mutationreport import (
    Equivalent,
    MutantResult,
    Mutation,
    RunInfo,
    function_of,
    load_equivalents,
    mutation_from_diff,
    render,
    stale,
    stub,
    survivors,
)

WRITER = "replicator/adapters/writer.py"
DIFF = """--- replicator/adapters/writer.py
+++ replicator/adapters/writer.py
@@ -1,5 +1,5 @@
 def advance_watermark(self, source_table: str, version: str) -> None:
     Key={schema.STATE_PARTITION_KEY: {"S": schema.watermark_pk(source_table)}},

-    UpdateExpression="SET #v = :v",
+    UpdateExpression="XXSET #v = :vXX",
     ConditionExpression=_NEWER,
"""
RUN = RunInfo(
    command="python -m faultlab.mutation",
    tool="mutmut 3.8.1",
    python="3.11.7",
    started=dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC),
    seconds=812.4,
    cpu_seconds=1500.2,
    workers=2,
    load=(2.5, 3.1),
    modules=(WRITER,),
    tests=("tests/integration/test_replicator.py",),
    deselected=("tests/property/test_x.py::test_slow",),
    examples=12,
)


def mutation(original: str = 'UpdateExpression="SET #v = :v",') -> Mutation:
    return Mutation(
        WRITER,
        "ReplicaWriter.advance_watermark",
        'Key={schema.STATE_PARTITION_KEY: {"S": schema.watermark_pk(source_table)}},',
        original,
        'UpdateExpression="XXSET #v = :vXX",',
    )


@pytest.mark.parametrize(
    ("name", "function"),
    [
        pytest.param("replicator.core.plan.x_plan_batch__mutmut_7", "plan_batch", id="function"),
        pytest.param("replicator.core.plan.x__write_for__mutmut_12", "_write_for", id="private-function"),
        pytest.param(
            "replicator.adapters.writer.xǁReplicaWriterǁ_cancelled__mutmut_3",
            "ReplicaWriter._cancelled",
            id="method",
        ),
    ],
)
def test_a_mutants_function_is_named_as_in_the_source(name, function):
    assert function_of(name) == function


def test_a_mutant_is_described_by_its_module_function_and_the_lines_it_changed():
    # WHEN a mutmut diff is read
    found = mutation_from_diff(WRITER, "ReplicaWriter.advance_watermark", DIFF)
    # THEN the file headers and unchanged lines are left out, indentation is stripped, and the nearest
    # non-blank line above the change is kept as its context
    assert found == mutation()


def test_two_identical_lines_of_one_function_are_told_apart_by_the_line_above():
    # GIVEN the same mutation of two `continue` lines of one function
    diff = "--- p\n+++ p\n@@ -1,3 +1,3 @@\n def f():\n     skipped.append(x)\n-    continue\n+    break\n"
    first = mutation_from_diff("p.py", "f", diff)
    second = mutation_from_diff("p.py", "f", diff.replace("skipped.append(x)", "rejected.append(x)"))
    # WHEN only the first is listed as equivalent
    explained = Equivalent(first, "because")
    results = [MutantResult("a__mutmut_1", "p.py", "survived", first)]
    results.append(MutantResult("a__mutmut_2", "p.py", "survived", second))
    # THEN the second stays unexplained
    assert [s.reason for s in survivors(results, [explained])] == ["because", None]


def test_an_equivalent_entry_explains_exactly_the_survivor_with_the_same_change():
    # GIVEN two survivors of one function, and an equivalents file explaining one of them
    explained = MutantResult("w.x_f__mutmut_1", WRITER, "survived", mutation())
    other = MutantResult("w.x_f__mutmut_2", WRITER, "survived", mutation("ConditionExpression=_NEWER,"))
    killed = MutantResult("w.x_f__mutmut_3", WRITER, "killed")
    equivalents = load_equivalents(
        f"""
        [[equivalent]]
        module = "{WRITER}"
        function = "ReplicaWriter.advance_watermark"
        after = 'Key={{schema.STATE_PARTITION_KEY: {{"S": schema.watermark_pk(source_table)}}}},'
        original = 'UpdateExpression="SET #v = :v",'
        mutated = 'UpdateExpression="XXSET #v = :vXX",'
        reason = "moto and DynamoDB both reject it, so it is killed elsewhere"
        """
    )
    # WHEN survivors are judged
    found = survivors([killed, other, explained], equivalents)
    # THEN only the matching one is equivalent, and the killed mutant is not a survivor
    assert [(s.result.name, s.reason) for s in found] == [
        ("w.x_f__mutmut_1", "moto and DynamoDB both reject it, so it is killed elsewhere"),
        ("w.x_f__mutmut_2", None),
    ]


def test_a_survivor_no_test_reaches_is_unexplained_too_and_a_todo_reason_explains_nothing():
    # GIVEN a mutant no selected test reached, and a pasted stub whose reason is still TODO
    unreached = MutantResult("w.x_f__mutmut_4", WRITER, "no tests", mutation())
    equivalents = [Equivalent(mutation(), "TODO: why no history can tell it apart")]
    # THEN it still counts as unexplained
    assert [s.reason for s in survivors([unreached], equivalents)] == [None]


def test_an_entry_matching_no_survivor_is_reported_as_stale():
    # GIVEN an entry whose line has changed since, and this run's one survivor
    entry = Equivalent(mutation("a line that changed since"), "old reason")
    found = survivors([MutantResult("n__mutmut_1", WRITER, "survived", mutation())], [])
    # THEN the entry is reported as matching nothing
    assert stale([entry], found) == [entry]


def test_a_malformed_entry_names_its_number_and_what_is_wrong():
    with pytest.raises(ValueError, match=r"entry 1 needs string fields .* wrong: reason, unknown key 'why'"):
        load_equivalents(
            '[[equivalent]]\nmodule = "m"\nfunction = "f"\nafter = ""\noriginal = "a"\nmutated = "b"\n'
            'why = "x"\n'
        )


def test_the_stub_for_an_unexplained_survivor_loads_back_as_the_same_mutation():
    # GIVEN an unexplained survivor whose line holds quotes of both kinds
    tricky = Mutation(
        WRITER, "f", "def f(a: str = '\\') -> None:", """x = "a" + 'b'""", """x = "XXaXX" + 'b'"""
    )
    survivor = survivors([MutantResult("n__mutmut_1", WRITER, "survived", tricky)], [])[0]
    # WHEN its stub gets a reason and is read back
    text = stub(survivor).replace("TODO: why no history can tell it apart", "because")
    # THEN it explains exactly that survivor
    assert load_equivalents(text) == [Equivalent(tricky, "because")]


def test_the_section_counts_mutants_per_module_and_marks_each_survivor():
    # GIVEN a run with kills (one by mypy), a timeout, an explained and an unexplained survivor
    results = [
        MutantResult("w.x_f__mutmut_1", WRITER, "killed"),
        MutantResult("w.x_f__mutmut_2", WRITER, "killed"),
        MutantResult("w.x_f__mutmut_3", WRITER, "timeout"),
        MutantResult("w.x_f__mutmut_6", WRITER, "caught by type check"),
        MutantResult("w.x_f__mutmut_4", WRITER, "survived", mutation()),
        MutantResult("w.x_f__mutmut_5", WRITER, "survived", mutation("a | b")),
    ]
    # WHEN the section is rendered
    text = render(RUN, results, [Equivalent(mutation(), "rejected by DynamoDB; killed elsewhere")])
    # THEN the counts, the tool, the tests and the verdicts are there, pipes escaped in cells
    assert (
        "| mutants | 6 generated: 4 killed (1 by mypy before any test ran, 1 by timeout), 2 survived "
        "(1 equivalent, **1 unexplained**) |" in text
    )
    assert "| tool | mutmut 3.8.1 |" in text
    assert "`tests/integration/test_replicator.py`; not `tests/property/test_x.py::test_slow`" in text
    assert "| `replicator/adapters/writer.py` | 6 | 3 | 1 | 1 | 1 | 80.0 % |" in text
    assert "equivalent: rejected by DynamoDB; killed elsewhere |" in text
    assert "| 2 | `replicator/adapters/writer.py`: `ReplicaWriter.advance_watermark` | `Key={schema" in text
    assert "| `a \\| b` | `UpdateExpression=" in text
    assert text.rstrip().endswith("**UNEXPLAINED** |")
    assert (
        "812 s with 2 workers on a shared machine (load average 2.5 at the start, 3.1 at the end); "
        "1500 s of CPU"
    ) in text


def test_unjudged_mutants_are_shown_as_not_finished():
    text = render(RUN, [MutantResult("w.x_f__mutmut_1", WRITER, "not checked")], [])
    assert "not finished: not checked 1" in text
