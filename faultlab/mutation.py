"""``make mutate``: mutation testing of the modules that decide and perform replica writes.

    python -m faultlab.mutation [--workers 2] [--examples 12] [--report-only]

Runs mutmut (configured in pyproject.toml, ``[tool.mutmut]``: which modules are mutated, which
tests judge them) in a fresh ``mutants/`` copy of the tree, then rewrites the mutation section of
docs/reliability.md: the counts, and every surviving mutant with its verdict, "equivalent" with
the reason recorded in ``mutation-equivalents.toml``, or UNEXPLAINED. The exit code is 0 only when
every mutant was judged and every survivor is explained; 1 when a survivor is unexplained (the
paste-ready stub of an equivalents entry is printed for each); 2 when mutmut failed or left
mutants unjudged.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faultlab import mutationreport, sections
from faultlab.mutationreport import Equivalent, MutantResult, RunInfo

DEFAULT_EXAMPLES = 12
"""The state machine's examples per mutant: enough to catch what it catches at 60, in the budget."""
DEFAULT_WORKERS = 2
DELIVERY_SECONDS = 10
"""A test delivery's invocation time under mutation, instead of 60 s: the writer starts an attempt
only with its client timeouts (7 s) and the reporting reserve (1 s) left, so this leaves a failing
write about 2 s of retries, while a delivery to moto takes well under a second."""
CONVERGENCE_DELIVERY_MILLIS = 2_000
"""The state machine's invocation time under mutation (its retries neither sleep nor wait)."""
DEFAULT_OUTPUT = Path("docs/reliability.md")


@dataclass(frozen=True, slots=True)
class Options:
    root: Path = Path()
    workers: int = DEFAULT_WORKERS
    examples: int = DEFAULT_EXAMPLES
    output: Path | None = DEFAULT_OUTPUT
    equivalents: Path = Path("mutation-equivalents.toml")
    mutants: tuple[str, ...] = ()
    """mutmut id patterns to run (all when empty): the smoke test runs a handful."""
    report_only: bool = False
    """Re-read the last run's ``mutants/`` (after editing the equivalents) instead of running again."""
    quiet: bool = False


@dataclass(frozen=True, slots=True)
class MutationRun:
    exit_code: int
    """mutmut's own exit code (0 when it ran to the end)."""
    results: tuple[MutantResult, ...]
    equivalents: tuple[Equivalent, ...]
    section: str


@dataclass(frozen=True, slots=True)
class Scope:
    """What ``[tool.mutmut]`` in pyproject.toml mutates, and the tests that judge it."""

    modules: tuple[str, ...]
    tests: tuple[str, ...]
    deselected: tuple[str, ...]

    @classmethod
    def read(cls, root: Path) -> Scope:
        with (root / "pyproject.toml").open("rb") as f:
            table = tomllib.load(f).get("tool", {}).get("mutmut", {})
        modules = [str(m) for m in table.get("only_mutate", [])]
        if not modules:
            raise SystemExit(f"{root / 'pyproject.toml'}: [tool.mutmut] must list only_mutate (the modules)")
        selection = [str(t) for t in table.get("pytest_add_cli_args_test_selection", [])]
        return cls(
            modules=tuple(modules),
            tests=tuple(t for t in selection if not t.startswith("-")),
            deselected=tuple(t.removeprefix("--deselect=") for t in selection if t.startswith("--deselect=")),
        )


def environment(examples: int) -> dict[str, str]:
    """The tests' environment inside mutmut: a small, fixed state machine (tests/conftest.py's
    "mutation" profile), and moto's in-process streams (see tests/conftest.py)."""
    return {
        **os.environ,
        # mutmut runs the type checker by name (type_check_command): this interpreter's mypy.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "CONVERGENCE_EXAMPLES": str(examples),
        # A delivery whose writes keep failing gives up after this many seconds instead of 60
        # (tests/support/replication.py): mutants that make a failed condition retryable end in
        # a verdict, not in mutmut's timeout.
        "TEST_DELIVERY_SECONDS": str(DELIVERY_SECONDS),
        "CONVERGENCE_DELIVERY_MILLIS": str(CONVERGENCE_DELIVERY_MILLIS),
        "HYPOTHESIS_PROFILE": "mutation",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run_mutmut(options: Options) -> int:
    """A full mutmut run from scratch (its cache would keep verdicts from older tests)."""
    if importlib.util.find_spec("mutmut") is None:
        raise SystemExit(
            f"mutmut is not installed in {sys.prefix}: `make install` (requirements/dev.txt pins it)"
        )
    shutil.rmtree(options.root / "mutants", ignore_errors=True)
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(options.workers)]
    quiet = subprocess.DEVNULL if options.quiet else None
    done = subprocess.run(  # noqa: S603 (our own interpreter and mutmut, no shell)
        [*command, *options.mutants],
        cwd=options.root,
        env=environment(options.examples),
        stdout=quiet,
        stderr=quiet,
        check=False,
    )
    return done.returncode


def read_results(root: Path) -> list[MutantResult]:
    """Every mutant of the last run with mutmut's verdict; what it changed, for the undetected ones."""
    # mutmut's own modules: its status names, and the diff of a mutant (read from mutants/).
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # noqa: PLC0415 (a dev-only tool)
    from mutmut.stats import status_by_exit_code  # noqa: PLC0415

    results = []
    mutants = root / "mutants"
    for meta in sorted(mutants.rglob("*.py.meta")):
        module = meta.relative_to(mutants).as_posix().removesuffix(".meta")
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        for name, code in codes.items():
            status = status_by_exit_code[code]
            mutation = None
            if status in mutationreport.UNDETECTED:
                with contextlib.chdir(root):
                    diff = get_diff_for_mutant(name, path=module)
                mutation = mutationreport.mutation_from_diff(module, mutationreport.function_of(name), diff)
            results.append(MutantResult(name, module, status, mutation))
    return results


RUN_RECORD = "mutants/faultlab-run.json"
"""When and how the last run ran, for ``--report-only`` (kept with the results it describes)."""


def run(options: Options) -> MutationRun:
    """Run mutmut (unless ``report_only``) and render its results; writes the report section."""
    scope = Scope.read(options.root)
    record = options.root / RUN_RECORD
    run_info: dict[str, Any]
    if options.report_only:
        if not record.exists():
            raise SystemExit(f"no earlier run to report: {record} is missing (run make mutate first)")
        run_info = json.loads(record.read_text())
        exit_code = int(run_info.pop("exit_code"))
    else:
        started = dt.datetime.now(dt.UTC)
        load_start = os.getloadavg()[0]
        began, cpu = time.monotonic(), _children_cpu()
        exit_code = run_mutmut(options)
        run_info = {
            "command": _command(options),
            "started": started.isoformat(),
            "seconds": time.monotonic() - began,
            "cpu_seconds": _children_cpu() - cpu,
            "workers": options.workers,
            "load": [load_start, os.getloadavg()[0]],
            "examples": options.examples,
        }
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({**run_info, "exit_code": exit_code}))
    results = read_results(options.root)
    path = options.root / options.equivalents
    equivalents = (
        mutationreport.load_equivalents(path.read_text(), source=str(options.equivalents))
        if path.exists()
        else []
    )
    info = RunInfo(
        command=str(run_info["command"]),
        tool=f"mutmut {importlib.metadata.version('mutmut')}",
        python=platform.python_version(),
        started=dt.datetime.fromisoformat(str(run_info["started"])),
        seconds=float(run_info["seconds"]),
        cpu_seconds=float(run_info["cpu_seconds"]),
        workers=int(run_info["workers"]),
        load=(float(run_info["load"][0]), float(run_info["load"][1])),
        modules=scope.modules,
        tests=scope.tests,
        deselected=scope.deselected,
        examples=int(run_info["examples"]),
    )
    section = mutationreport.render(info, results, equivalents)
    if options.output is not None:
        sections.write_section(
            options.root / options.output, section, begin=mutationreport.BEGIN, end=mutationreport.END
        )
    return MutationRun(exit_code, tuple(results), tuple(equivalents), section)


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (mutmut's forks and mypy are reaped by mutmut)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _command(options: Options) -> str:
    args = ["python", "-m", "faultlab.mutation"]
    if options.workers != DEFAULT_WORKERS:
        args += ["--workers", str(options.workers)]
    if options.examples != DEFAULT_EXAMPLES:
        args += ["--examples", str(options.examples)]
    return shlex.join([*args, *options.mutants])


def parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m faultlab.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="mutmut's parallel workers")
    parser.add_argument(
        "--examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        help=f"the state machine's examples per mutant (default {DEFAULT_EXAMPLES})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="the report to rewrite (default docs/reliability.md)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="re-render the report from the last run's mutants/ (after editing mutation-equivalents.toml)",
    )
    parser.add_argument("mutants", nargs="*", help="mutmut id patterns to run (default: every mutant)")
    args = parser.parse_args(argv)
    return Options(
        workers=args.workers,
        examples=args.examples,
        output=args.output,
        mutants=tuple(args.mutants),
        report_only=args.report_only,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    outcome = run(options)
    found = mutationreport.survivors(outcome.results, outcome.equivalents)
    unexplained = [s for s in found if s.reason is None]
    for entry in mutationreport.stale(outcome.equivalents, found):
        print(
            f"note: {options.equivalents} lists a mutant that did not survive this run "
            f"({entry.mutation.module}: {entry.mutation.function}: {entry.mutation.original!r}); "
            "delete or re-key it",
            file=sys.stderr,
        )
    print(outcome.section)
    if unexplained:
        print(
            f"{len(unexplained)} surviving mutant(s) unexplained: kill each with a test, or add its entry to "
            f"{options.equivalents} with a one-line reason why no history can tell it apart:\n",
            file=sys.stderr,
        )
        for survivor in unexplained:
            print(mutationreport.stub(survivor), file=sys.stderr)
    missing = mutationreport.incomplete(outcome.results)
    if outcome.exit_code != 0 or missing or not outcome.results:
        print(
            f"mutmut did not finish (exit code {outcome.exit_code}; unjudged: {dict(missing) or 'none'}, "
            f"mutants found: {len(outcome.results)})",
            file=sys.stderr,
        )
        return 2
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
