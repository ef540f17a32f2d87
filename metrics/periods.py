"""Time slots of the usage table and the rolling periods of the merged figures (pure).

A :class:`Slot` is one UTC minute, hour or day, numbered from the epoch. Window summaries are filed
under the minute their tumbling window starts in; the merge unions them into the minute's sketch,
minutes into their hour, hours into their day. The rolling figures published at minute ``m``:

=====================  ===========================================================================
figure                 union of
=====================  ===========================================================================
HourlyActiveUsers      the 60 minute sketches ending with ``m`` (a rolling hour, to the minute)
DailyActiveUsers       the 24 hour sketches ending with ``m``'s hour: the clock hour so far and the
                       23 before it (a rolling day counted in whole clock hours: 23 h 01 min to 24 h)
MonthlyActiveUsers     the 30 day sketches ending with ``m``'s day: today so far and the 29 days
                       before it (a rolling 30 days counted in whole UTC days)
=====================  ===========================================================================

So DAU is never built from minutes nor MAU from hours' worth of raw ids: each level is a union of
the level below, and a union of sketches is a sketch of the union.

Retention (the items' TTL, counted from the end of their slot) keeps each level exactly as long
as the figures need it, plus room for a merge that fell behind: minutes 2 days (HourlyActiveUsers
reads the last 60; a stopped merge can catch up on a day's summaries), hours 3 days (DAU reads the
last 24), days 35 days (MAU reads the last 30).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Period:
    name: str
    seconds: int
    text_format: str
    retention: dt.timedelta


MINUTE = Period("minute", 60, "%Y-%m-%dT%H:%M", dt.timedelta(days=2))
HOUR = Period("hour", 3600, "%Y-%m-%dT%H", dt.timedelta(days=3))
DAY = Period("day", 86_400, "%Y-%m-%d", dt.timedelta(days=35))
PERIODS = (MINUTE, HOUR, DAY)


@dataclass(frozen=True, slots=True)
class Slot:
    """One period of one length: the minute, hour or day number ``index`` since the epoch (UTC)."""

    period: Period
    index: int

    @classmethod
    def of(cls, period: Period, moment: dt.datetime | float) -> Slot:
        epoch = moment.timestamp() if isinstance(moment, dt.datetime) else moment
        return cls(period, math.floor(epoch / period.seconds))

    @classmethod
    def parse(cls, period: Period, text: str) -> Slot:
        """The slot :meth:`text` names (ValueError otherwise)."""
        moment = dt.datetime.strptime(text, period.text_format).replace(tzinfo=dt.UTC)
        return cls.of(period, moment)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.index * self.period.seconds, dt.UTC)

    @property
    def end_epoch(self) -> int:
        return (self.index + 1) * self.period.seconds

    def text(self) -> str:
        return self.start.strftime(self.period.text_format)

    def within(self, period: Period) -> Slot:
        """The slot of ``period`` (an hour, a day) holding this one."""
        return Slot.of(period, self.index * self.period.seconds)

    def expires_at(self) -> int:
        """Epoch seconds after which the slot's items may go (DynamoDB TTL)."""
        return self.end_epoch + int(self.period.retention.total_seconds())

    def back(self, count: int) -> list[Slot]:
        """The ``count`` slots of this length ending with this one, oldest first."""
        return [Slot(self.period, index) for index in range(self.index - count + 1, self.index + 1)]


@dataclass(frozen=True, slots=True)
class Rolling:
    """A rolling figure: the union of the last ``count`` slots of ``period`` up to a minute."""

    name: str
    period: Period
    count: int

    def slots(self, minute: Slot) -> list[Slot]:
        return minute.within(self.period).back(self.count)


HOURLY = Rolling("hourly", MINUTE, 60)
DAILY = Rolling("daily", HOUR, 24)
MONTHLY = Rolling("monthly", DAY, 30)
ROLLING = (HOURLY, DAILY, MONTHLY)


def due_minute(now: float, grace_seconds: float) -> Slot:
    """The last minute that ended at least ``grace_seconds`` ago: its windows have all closed.

    Lambda invokes a window's final invocation at the window's end; the grace leaves room for that
    invocation and its write to the usage table. A summary arriving later still counts (the merge
    unions it in on its next run; docs/metrics.md, "Late summaries").
    """
    return Slot(MINUTE, math.floor((now - grace_seconds) / MINUTE.seconds) - 1)
