"""``python -m replicator doctor``: a read-only preflight of a replication setup.

The rooms, from the middle out:

* :mod:`.findings`: a check's verdict (pass, warn, fail, skip) with its reason and its fix, and the
  exit code of a list of them.
* :mod:`.views`: typed, read-only views of what AWS describes (tables, TTL, PITR, the stream's
  shards, event source mappings, the function, the queue, the clock, an IAM simulation), parsed once
  from the describe answers. A fact that could not be read is an :class:`~.findings.Unreadable`.
* :mod:`.facts`: all the views of one run, and what the operator says the setup should be.
* :mod:`.tables`, :mod:`.runtime`, :mod:`.lineage`, :mod:`.readers` and :mod:`.iam`: the pure
  rules, one function per check, from views to a :class:`~.findings.Finding`; :mod:`.checks` lists
  them in the report's order. No I/O.
* :mod:`.gather` and :mod:`.attempt`: the only modules that call AWS; they turn answers (and
  refusals) into views.
* :mod:`.report`: the lines and the ``--json`` document (pure formatting).
* :mod:`.command`: wires them for the CLI; :mod:`.guard`: the third-reader guard of ``redrive`` and
  ``python -m localrun run``, on the same reader rule.

The doctor never reads an item: nothing it prints can hold an item's contents or a user id.
"""
