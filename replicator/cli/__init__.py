"""The operator command line: ``python -m replicator check|repair|backfill|redrive``.

Logic that decides (the diff, the failure-message parser, the rate limiter's arithmetic) is pure;
the modules that scan, repair, backfill and redrive do the I/O through clients that only
:mod:`replicator.cli.main` creates.
"""
