"""The metric series a handler really emitted, read from its EMF output lines."""

from __future__ import annotations

import json
from collections.abc import Iterable

from tests.support.metric_refs import Dimensions

Series = tuple[str, str, Dimensions]


def emitted_series(lines: Iterable[str]) -> frozenset[Series]:
    """(namespace, metric name, exact dimension pairs) of every metric in every EMF document.

    CloudWatch turns each dimension set of a directive into its own series, with the dimension
    values read from the document's top-level fields.
    """
    found: set[Series] = set()
    for line in lines:
        if not line.strip().startswith("{"):
            continue
        document = json.loads(line)
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            for dimension_set in directive["Dimensions"]:
                dimensions = frozenset((name, str(document[name])) for name in dimension_set)
                for metric in directive["Metrics"]:
                    found.add((directive["Namespace"], metric["Name"], dimensions))
    return frozenset(found)
