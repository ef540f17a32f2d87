"""The context object Lambda passes to a Python handler, with the same attribute names."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_ACCOUNT = "123456789012"
"""The account id moto uses; also the one in ARNs the local runtime makes up."""


def function_arn(name: str, region: str, account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


@dataclass(slots=True)
class LambdaContext:
    """What handlers read from ``context``; the deadline is the function timeout from the invoke start."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    deadline: float
    """``clock()`` value at which Lambda would stop the invocation."""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    clock: Callable[[], float] = time.monotonic

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id[:8]}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self.clock()) * 1000))
