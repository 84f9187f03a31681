"""(b) A burst of due follow-ups under Telegram's 30 messages/s limit.

`--n` unpaid orders of returning buyers, each bound to its own Telegram chat
(`telegram_chat_id` in order.placed), are placed through the event API with
`occurred_at` chosen so that every order's "nudge" (placed_at + nudge_after)
comes due in the same second, `--lead` seconds after seeding starts. The real
`buyerbot run` (SQLite store) sends them through the fake Bot API with its
Telegram-like limits ON (30/s per bot, burst 30; 1/s per chat, burst 3) and
the bot's own [limits.telegram] rate = 30 (per chat 1/s, burst 3).

Reported: achieved send rate = (delivered - 1) / (last - first delivery, as the
fake recorded them) against the 30/s limit, lost (chats without a nudge),
doubled (chats with more than one), the fake's 429 count, and due -> first /
last delivery.

    python -m bench.telegram_burst [--n 2000] [--lead 40] [--redis]
"""

from __future__ import annotations

import argparse
import collections
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

from bench.common import table
from bench.telegram_common import (
    CpuTimes,
    fake_telegram,
    full_bot,
    machine,
    place_orders,
    policy_text,
    redis_server,
    sent_since,
    wait_follow_ups,
)

RATE = 30.0
NUDGE = "Pay for order"
LIMITS = """
[limits.telegram]
rate = 30
per_chat_rate = 1
per_chat_burst = 3
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="(b) 2,000 due follow-ups to 2,000 chats under a 30/s limit")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--lead", type=float, default=40.0, help="seconds from seeding start to the due second")
    parser.add_argument("--redis", action="store_true", help="use the Redis store instead of SQLite")
    args = parser.parse_args(argv)
    chats = list(range(300_001, 300_001 + args.n))
    # nudge_after is long, occurred_at is in the past: the due second is `lead` s away
    policy = policy_text(nudge_after="1h", offer_after="3h", limits=LIMITS)
    with ExitStack() as stack:
        url = stack.enter_context(redis_server()).url if args.redis else None
        fake = stack.enter_context(fake_telegram(rate_limits=True))
        bot = stack.enter_context(full_bot(fake, policy, store_url=url))
        assert bot.proc is not None
        due_epoch = float(int(time.time() + args.lead))
        due = datetime.fromtimestamp(due_epoch, UTC)
        seeding = place_orders(bot, chats, occurred_at=due - timedelta(hours=1))
        pending = wait_follow_ups(bot, args.n, max(5.0, due_epoch - time.time() - 1))
        spare = due_epoch - time.time()
        if pending < args.n or spare < 1:
            raise SystemExit(f"seeding too slow: {pending} follow-ups, {spare:.1f} s before due; raise --lead")
        start = len(fake.sent)
        cpu = CpuTimes(bot.proc.pid)
        cpu0 = cpu.read()
        deadline = due_epoch + args.n / RATE * 1.5 + 30
        while time.time() < deadline:
            if sum(1 for m in sent_since(fake, start) if NUDGE in (m.text or "")) >= args.n:
                break
            time.sleep(0.5)
        cpu1 = cpu.read()
        time.sleep(3)  # a double would show up here
        sent = [m for m in sent_since(fake, start) if NUDGE in (m.text or "")]
        count_429 = fake.count_429
        stats = fake.stats()["requests_by_method"]
    per_chat = collections.Counter(m.chat_id for m in sent)
    lost = sum(1 for c in chats if per_chat[c] == 0)
    doubled = sum(1 for c in chats if per_chat[c] > 1)
    first, last = min(m.monotonic for m in sent), max(m.monotonic for m in sent)
    first_t, last_t = min(m.time for m in sent), max(m.time for m in sent)
    achieved = (len(sent) - 1) / (last - first) if last > first else float("nan")
    store = "Redis" if args.redis else "SQLite"
    print(f"## (b) {args.n:,} nudges due in the same second to {args.n:,} chats, limit {RATE:.0f}/s ({store} store)\n")
    headers = ["delivered", "first -> last", "achieved rate", "of limit", "lost", "doubled", "429s", "due -> first",
               "due -> last", "bot CPU"]  # fmt: skip
    row = [
        f"{len(sent):,}",
        f"{last - first:,.1f} s",
        f"{achieved:,.2f}/s",
        f"{achieved / RATE:.3f}x",
        lost,
        doubled,
        count_429,
        f"{(first_t - due_epoch) * 1000:,.0f} ms",
        f"{last_t - due_epoch:,.1f} s",
        f"{(cpu1 - cpu0) / max(1e-9, last_t - due_epoch) * 100:.0f}%",
    ]
    print(table(headers, [row]))
    print(
        f"\nseeding {args.n:,} orders took {seeding:.1f} s, all bound {spare:.1f} s before the due second; "
        f"sendMessage calls {stats.get('sendMessage', 0):,}; fake limits ON; "
        f"{machine()}"
    )


if __name__ == "__main__":
    main()
