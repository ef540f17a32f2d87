"""The replicator's pure core: what a batch requires of the replica, and how results are summarised.

Nothing here does I/O or imports boto3/botocore (``tests/unit/test_architecture.py`` enforces it):
versions (:mod:`.version`), the write plan (:mod:`.plan`), the policy (:mod:`.policy`), what of an
item the replica holds (:mod:`.view`), the repair version rule (:mod:`.repair`), outcomes and the batch report
(:mod:`.outcomes`, :mod:`.report`), the schema of what is written (:mod:`.schema`) and every error
(:mod:`.errors`). The adapters in :mod:`replicator.adapters` turn its decisions into requests.
"""
