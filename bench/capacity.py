"""Price every request a boto3 DynamoDB client sends, by DynamoDB's documented capacity rules.

moto sends no bill, and what it reports as ``ConsumedCapacity`` is not what DynamoDB charges, so
the cost benchmark prices each request itself. The rules (on-demand request units; provisioned
capacity units are counted the same way):

* **standard writes**: 1 write unit per KB, rounded up per item. ``PutItem`` counts the larger of
  the item it replaces and the item it writes; ``UpdateItem`` the larger of the item before and
  after; ``DeleteItem`` the size of the deleted item; every write at least 1. A write whose
  condition fails still consumes: the size of the existing item, at least 1.
* **transactional writes**: 2 write units per KB per action (a prepare and a commit), and a
  ``ConditionCheck`` action is billed like a write of the checked item.
* **reads**: 1 read unit per 4 KB for a strongly consistent read, half that for an eventually
  consistent one. The size is the whole stored item's (a projection does not reduce it). An item
  that does not exist still costs the minimum. ``BatchGetItem`` rounds each item up on its own.
* a request that is refused (throttled, invalid) consumes nothing.

Sources: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
(item sizes, "Write operations", "Read operations", conditional writes) and
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling
(transactions); item size by DynamoDB's rule, :func:`ddbstream.item_size_bytes`. The docs do not
describe a discount for a transaction cancelled by a condition; it is priced like a committed one
(an upper bound; no first-delivery history in the benchmark cancels one).

*Write-unit equivalents* add reads at their price relative to writes: WRU + 0.2 x RRU (on-demand:
$0.125 against $0.625 per million).

:class:`bench.meter.RequestMeter` applies these rules to every request of a live client. This
module is pure: the rules, and how to read DynamoDB's answer.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

WRITE_UNIT_BYTES: Final = 1024
READ_UNIT_BYTES: Final = 4096
READ_PRICE_RATIO: Final = 0.2
"""An on-demand read unit's price over a write unit's ($0.125 / $0.625 per million)."""


@dataclass(frozen=True, slots=True)
class Units:
    """Write and read request units."""

    write: float = 0.0
    read: float = 0.0

    def __add__(self, other: Units) -> Units:
        return Units(self.write + other.write, self.read + other.read)

    @property
    def equivalents(self) -> float:
        """Write-unit equivalents: WRU + 0.2 x RRU."""
        return self.write + READ_PRICE_RATIO * self.read

    def per(self, count: int) -> Units:
        return Units(self.write / count, self.read / count) if count else Units()


class Kind(enum.StrEnum):
    """What a request does to one item."""

    PUT = "put"
    UPDATE = "update"
    DELETE = "delete"
    CHECK = "check"
    READ = "read"


@dataclass(frozen=True, slots=True)
class Touch:
    """One item a request touches: its stored size before (None: absent) and the size written."""

    kind: Kind
    before: int | None
    after: int | None = None
    consistent: bool = True
    """Reads only: strongly consistent."""


class Answer(enum.Enum):
    SUCCEEDED = "succeeded"
    CONDITION_FAILED = "condition failed"
    REFUSED = "refused"
    """Throttled or invalid: nothing was done and nothing is consumed."""


STANDARD_WRITES: Final = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
READS: Final = frozenset({"GetItem", "BatchGetItem"})
TRANSACTIONS: Final = frozenset({"TransactWriteItems"})


class UnpricedOperation(ValueError):
    """The meter has no rule for this operation (the replicator sends none of those)."""


def write_units(size_bytes: int) -> int:
    """1 unit per KB, rounded up, at least 1."""
    return max(1, math.ceil(size_bytes / WRITE_UNIT_BYTES))


def read_units(size_bytes: int, *, consistent: bool) -> float:
    """1 unit per 4 KB (rounded up, at least one block) strongly consistent; half eventually."""
    blocks = max(1, math.ceil(size_bytes / READ_UNIT_BYTES))
    return float(blocks) if consistent else blocks / 2


def standard_write(touch: Touch, answer: Answer) -> int:
    """One PutItem, UpdateItem or DeleteItem."""
    if answer is Answer.CONDITION_FAILED:
        return write_units(touch.before or 0)
    return write_units(max(touch.before or 0, touch.after or 0))


def transactional_write(touch: Touch) -> int:
    """One action of a TransactWriteItems (Put, Update, Delete or ConditionCheck)."""
    return 2 * write_units(max(touch.before or 0, touch.after or 0))


def price(operation: str, touches: Sequence[Touch], answer: Answer) -> Units:
    """What one request consumed."""
    if operation not in STANDARD_WRITES | READS | TRANSACTIONS:
        raise UnpricedOperation(f"no capacity rule for {operation}")
    if answer is Answer.REFUSED:
        return Units()
    if operation in READS:
        return Units(read=sum(read_units(t.before or 0, consistent=t.consistent) for t in touches))
    if operation in TRANSACTIONS:
        return Units(write=sum(transactional_write(t) for t in touches))
    return Units(write=sum(standard_write(t, answer) for t in touches))


def answer_of(status: int, parsed: Mapping[str, Any]) -> Answer:
    """How DynamoDB answered: success, a failed condition (also inside a transaction), or refused."""
    if status < 300:
        return Answer.SUCCEEDED
    code = parsed.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return Answer.CONDITION_FAILED
    reasons = parsed.get("CancellationReasons") or []
    if code == "TransactionCanceledException" and any(
        r.get("Code") == "ConditionalCheckFailed" for r in reasons
    ):
        return Answer.CONDITION_FAILED
    return Answer.REFUSED
