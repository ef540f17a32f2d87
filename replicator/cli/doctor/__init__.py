"""``python -m replicator doctor``: a read-only preflight of a replication setup.

The rooms, from the middle out:

* :mod:`.findings`: a check's verdict (pass, warn, fail, skip) with its reason and its fix, and the
  exit code of a list of them.
* :mod:`.views`: typed, read-only views of what AWS describes (tables, TTL, PITR, the stream's
  shards, event source mappings, the function, the queue, the clock, an IAM simulation), parsed once
  from the describe answers. A fact that could not be read is an :class:`~.findings.Unreadable`.
* :mod:`.tables`, :mod:`.runtime`, :mod:`.lineage` and :mod:`.readers`: the pure rules, one function
  per check, from views to a :class:`~.findings.Finding`. No I/O.
* :mod:`.gather`: the only module that calls AWS; it turns answers (and refusals) into views.
* :mod:`.report`: the lines and the ``--json`` document (pure formatting).
* :mod:`.command`: wires them for the CLI.

The doctor never reads an item: nothing it prints can hold an item's contents or a user id.
"""
