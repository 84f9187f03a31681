"""How close the sender stays to its rate limit while a burst is being
decided: over the whole window (from the first due instant until the last
follow-up is handed to the sender) and in the worst 1-second window inside it
(sliding: any second, not only whole seconds from the due time)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class SenderPace:
    limit: float  # messages/s the sender may send
    window: float  # seconds, first due instant -> all decided
    sent: int  # messages the channel took in the window
    worst: float  # messages in the worst 1-second window (the whole window when shorter)
    worst_at: float  # that second's start, seconds after the first due instant

    @property
    def rate(self) -> float:
        return self.sent / self.window if self.window > 0 else float("nan")

    @property
    def ratio(self) -> float:
        return self.rate / self.limit

    @property
    def worst_ratio(self) -> float:
        return self.worst / self.limit

    def describe(self) -> str:
        return (
            f"{self.rate:,.1f}/s = {self.ratio:.2f}x over {self.window:.2f} s, "
            f"worst second {self.worst:,.0f} = {self.worst_ratio:.2f}x (at +{self.worst_at:.2f} s)"
        )


def sender_pace(sent_at: Iterable[float], start: float, end: float, limit: float) -> SenderPace:
    """`sent_at`: when the channel took each message (time.time()); the
    window is [start, end]."""
    times = sorted(t for t in sent_at if start <= t <= end)
    window = end - start
    if window <= 1.0:
        return SenderPace(limit, window, len(times), len(times) / window if window > 0 else 0.0, 0.0)

    # the count of a sliding second [s, s + 1) only drops as s passes a
    # message: its least is the window's first second, or one starting just
    # after a message t, which holds the messages in (t, t + 1]
    worst = bisect.bisect_left(times, start + 1.0)
    worst_at = start
    for t in times:
        if t > end - 1.0:
            break
        count = bisect.bisect_right(times, t + 1.0) - bisect.bisect_right(times, t)
        if count < worst:
            worst, worst_at = count, t
    return SenderPace(limit, window, len(times), float(worst), worst_at - start)
