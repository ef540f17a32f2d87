"""The fault lab: fault injection, sandboxed invocations, ledgers, validators and the soak run.

Development only, never in the wheel: it drives the shipped local runtime (``localrun``) and the
handlers public entry points to prove the replicators guarantees under injected faults
(``tests/faults`` and ``make soak``), and to check those proofs by mutation testing (``make mutate``).
"""
