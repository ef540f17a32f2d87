"""The replicator's edges: everything that talks to the replica region or writes output.

:mod:`.clients` builds the boto3 client, :mod:`.writer` turns a planned write into conditional
requests, :mod:`.reconcile` performs the repair/backfill compare-and-set, :mod:`.apply` runs a plan's
writes concurrently with :mod:`.retry`'s deadline-aware retries, :mod:`.classify` maps botocore errors
to the core's exceptions, and :mod:`.emit` formats EMF documents and failure log lines.
"""
