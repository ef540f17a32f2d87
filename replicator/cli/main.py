"""``python -m replicator`` / ``ddb-replicator``: check, repair, backfill and redrive a replica; doctor
checks a setup.

Every option is validated before any work (:mod:`replicator.cli.options`). Errors an operator can
fix (a bad option, a missing table, an endpoint that does not answer, reads that keep failing) end
the command with one line on standard error and exit code 2, never a traceback. An unexpected error
is one line too, with a hint to run again with ``--debug`` for the traceback.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from replicator.cli import commands
from replicator.cli.commands import ERROR, Runtime
from replicator.cli.doctor import command as doctor
from replicator.cli.errors import CliError
from replicator.cli.options import Options, parse

COMMANDS: dict[str, Callable[[Options, Runtime], int]] = {
    "check": commands.check,
    "repair": commands.repair,
    "backfill": commands.backfill,
    "redrive": commands.redrive,
    "doctor": doctor.run,
}

INTERRUPTED = {
    "check": "interrupted: nothing was reported",
    "repair": "interrupted: repairs already written are kept (each is a conditional write); "
    "run the repair again to finish",
    "backfill": "interrupted: run the same command again; it resumes from its --state-file",
    "redrive": "interrupted: messages not yet replayed stay in the queue; run redrive again",
    "doctor": "interrupted: the doctor only reads, nothing was changed",
}


def main(argv: Sequence[str] | None = None, *, runtime: Runtime | None = None) -> int:
    rt = runtime or Runtime()
    opts = parse(argv)  # a bad option exits 2 here, before any AWS call
    try:
        return COMMANDS[opts.command](opts, rt)
    except CliError as exc:
        rt.stderr.write(f"error: {exc}\n")
    except ClientError as exc:
        error = exc.response.get("Error", {})
        rt.stderr.write(f"error: {exc.operation_name} failed: {error.get('Code', 'unknown')}\n")
    except BotoCoreError as exc:
        rt.stderr.write(f"error: {type(exc).__name__} talking to AWS; run again with --debug for details\n")
        _debug(rt, opts)
    except OSError as exc:
        where = f" {exc.filename!r}" if exc.filename else ""
        rt.stderr.write(f"error: cannot use the file{where}: {exc.strerror or exc}\n")
    except KeyboardInterrupt:
        rt.stderr.write(f"error: {INTERRUPTED[opts.command]}\n")
    except Exception as exc:
        # A defect: its text is not ours and could quote data, so only its type is shown.
        rt.stderr.write(
            f"error: internal error ({type(exc).__name__}); run again with --debug to see the "
            "traceback, and please report it\n"
        )
        _debug(rt, opts)
    return ERROR


def _debug(rt: Runtime, opts: Options) -> None:
    if opts.debug:
        rt.stderr.write(traceback.format_exc())


if __name__ == "__main__":
    sys.exit(main())
