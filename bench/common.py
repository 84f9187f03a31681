"""Shared pieces of the benchmarks: the loop-stall ticker, percentiles, a
recording channel and sender, seeding, and our design's services wired the
way `bot.app.start_services` wires them."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import os
import platform
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

from bot.app import all_dialogs
from bot.cluster import Cluster
from bot.ratelimit import ChannelLimits, LocalLimits
from bot.rendering import Renderer
from bot.runtime import Runtime
from bot.sender import Sender
from bot.storage import open_store
from bot.storage.redis import RedisStore
from bot.tuning import tune_gc
from dialogs.engine import DialogEngine
from dialogs.model import Commit, Conversation, Inbound, OutboxStatus, Timer
from dialogs.policy import Policy, load_policy
from dialogs.ports import Capabilities, RenderedMessage, SendResult, Store, SystemClock
from scheduler.runtime import FollowUpScheduler
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
TICK = 0.005


# -- numbers ----------------------------------------------------------------
def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def ms(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "n/a"
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.2f} s"


def ratio(value: float, base: float) -> str:
    if base <= 0 or value != value:
        return "n/a"
    return f"{value / base:,.1f}x"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc), MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


# -- the loop-stall ticker --------------------------------------------------
class StallMonitor:
    """A task that sleeps `TICK` and records how late it woke up: the longest
    time the loop could not run anything else (a buyer's message included)."""

    def __init__(self, tick: float = TICK) -> None:
        self.tick = tick
        self.lateness: list[float] = []
        #: of each lateness, the loop thread's own CPU time (parallel to `lateness`)
        self.own: list[float] = []
        #: time.time() of each wake-up (parallel to `lateness`)
        self.woke: list[float] = []
        #: (generation, seconds) of every cyclic-GC pass while running
        self.gc_pauses: list[tuple[int, float]] = []
        self._gc_began = 0.0
        self._task: asyncio.Task[None] | None = None

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self.gc_pauses.append((info["generation"], time.perf_counter() - self._gc_began))

    @property
    def gc_max(self) -> float:
        return max((p for _, p in self.gc_pauses), default=0.0)

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            before, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(self.tick)
            late = max(0.0, time.perf_counter() - before - self.tick)
            self.lateness.append(late)
            # the loop thread's own CPU in that time: the part of the stall that
            # is our work, not the OS running other processes (or threads) instead
            self.own.append(min(late, time.thread_time() - cpu))
            self.woke.append(time.time())

    def worst_at(self) -> float:
        """time.time() when the longest stall ended (0 when none recorded)."""
        if not self.lateness:
            return 0.0
        return self.woke[self.lateness.index(self.max)]

    def reset(self) -> None:
        self.lateness = []
        self.own = []
        self.woke = []
        self.gc_pauses = []

    async def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    @property
    def max(self) -> float:
        return max(self.lateness, default=0.0)

    @property
    def own_max(self) -> float:
        """The longest stall counting only the loop thread's own CPU time."""
        return max(self.own, default=0.0)

    def p(self, q: float) -> float:
        return pct(self.lateness, q)


# -- our design -------------------------------------------------------------
def bench_policy() -> Policy:
    """The shipped policy without quiet hours, so a due time stays exact."""
    return dataclasses.replace(load_policy(ROOT / "policy.toml"), quiet_start=dtime(0), quiet_end=dtime(0))


class RecordingChannel:
    """A fake in-memory channel: records when each message is handed to it."""

    def __init__(self, name: str = "telegram") -> None:
        self.name = name
        self.capabilities = Capabilities(max_buttons=8, max_button_title=64, max_text=4096)
        self.sent_at: dict[str, float] = {}

    async def send(self, address: str, message: RenderedMessage) -> SendResult:
        self.sent_at[message.message_id] = time.time()
        return SendResult(ok=True, channel_message_id=message.message_id)


class RecordingSender(Sender):
    """The real sender; `enqueue` notes when each message was handed over."""

    enqueued_at: dict[str, float]

    async def enqueue(self, messages: Any) -> None:
        messages = list(messages)
        now = time.time()
        for message in messages:
            self.enqueued_at.setdefault(message.conversation_id, now)
        await super().enqueue(messages)


@dataclass
class Stack:
    store: Store
    runtime: Runtime
    sender: RecordingSender
    channel: RecordingChannel
    scheduler: FollowUpScheduler
    #: conversation id -> time.time() when on_due ran on the loop
    on_due_at: dict[str, float] = field(default_factory=dict)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    startup_s: float = 0.0
    rebuilt: int = 0
    cluster: Cluster | None = None

    async def close(self) -> None:
        if self.cluster is not None:
            await self.cluster.stop()
        self.scheduler.shutdown()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.sender.close()
        await self.runtime.close()
        await self.store.close()


async def start_stack(
    store_url: str, policy: Policy, forward: set[str] | None = None, sender_rate: float | None = None
) -> Stack:
    """What `start_services` does, with a recording channel (named telegram,
    no overall rate limit, or `sender_rate` messages/s as Telegram's 30/s;
    shared in Redis on the Redis store) instead of the real doors.
    `forward`: only these conversations' due timers go on to the runtime
    (None: all)."""
    clock = SystemClock()
    store = await open_store(store_url)
    await store.ping()
    runtime = Runtime(store, DialogEngine(all_dialogs(), policy, clock), clock)
    channel = RecordingChannel()
    # one message per chat here: a chat's own limit (Telegram's 1/s, burst 3) never holds one back
    per_channel = {"telegram": ChannelLimits(rate=sender_rate or 1e7, per_chat_rate=1.0, per_chat_burst=3.0)}
    # as start_services: on Redis the limits are shared by the processes, kept in Redis
    limits = store.shared_limits(per_channel) if isinstance(store, RedisStore) else LocalLimits(per_channel)
    sender = RecordingSender(store, {"telegram": channel}, Renderer(ROOT / "templates"), limits, clock)
    sender.enqueued_at = {}
    sender.on_unreachable = runtime.mark_unreachable
    runtime.sender = sender
    on_due_at: dict[str, float] = {}

    def on_due(timer: Timer) -> None:
        on_due_at[timer.conversation_id] = time.time()
        if forward is None or timer.conversation_id in forward:
            runtime.fire_timer(timer)

    scheduler = FollowUpScheduler(asyncio.get_running_loop(), on_due)
    runtime.timer_sink = scheduler.apply
    if isinstance(store, RedisStore):
        store.owner = "bench:0"
    # as start_services: the lease (always this process here), follow-ups read from the store
    cluster = Cluster(store, runtime, sender, scheduler, clock)
    stack = Stack(store, runtime, sender, channel, scheduler, on_due_at, cluster=cluster)
    stack.tasks.append(asyncio.create_task(sender.run(), name="sender"))
    started = time.perf_counter()
    scheduler.start(())
    await cluster.start()
    await runtime.start()
    await sender.recover()
    stack.rebuilt = scheduler.pending()
    tune_gc()  # as start_services does
    stack.startup_s = time.perf_counter() - started
    return stack


def order_placed(conversation_id: str, n: int, placed_at: datetime) -> Inbound:
    """A returning buyer's order (so the first follow-up is the nudge)."""
    data = {
        "buyer": {
            "id": f"b{n}",
            "name": "Ann",
            "language": "en",
            "country": "US",
            "first_order": False,
            "telegram_chat_id": 10_000_000 + n,
        },
        "items": [
            {
                "sku": "case-1",
                "title": "Phone case",
                "url": "https://example.com/i/1",
                "qty": 1,
                "price": "9.99",
                "stock_left": 40,
            }
        ],
        "total": {"amount": "9.99", "currency": "USD"},
    }
    return Inbound(
        conversation_id=conversation_id,
        trigger="order_event",
        payload={
            "type": "order.placed",
            "order_id": conversation_id,
            "event_id": f"ev-{conversation_id}",
            "occurred_at": placed_at.isoformat(),
            "data": data,
        },
        source_id=f"ev-{conversation_id}",
        received_at=placed_at,
    )


async def seed_orders(store_url: str, policy: Policy, ids: Sequence[str], nudge_due: Sequence[datetime]) -> None:
    """Each conversation: order.placed through the engine (as the event API
    would hand it over), committed, link token and channel binding written:
    it then has its order and one pending `nudge` follow-up at `nudge_due`."""
    clock = SystemClock()
    store = await open_store(store_url)
    runtime = Runtime(store, DialogEngine(all_dialogs(), policy, clock), clock)  # no sender, no scheduler
    after = policy.unpaid.nudge_after

    async def one(i: int) -> None:
        inbound = order_placed(ids[i], i, nudge_due[i] - after)
        change = await runtime.engine.handle(store, inbound)
        assert change is not None and [t.name for t in change.timers_set] == ["nudge"], change
        assert change.timers_set[0].due_at == nudge_due[i], (change.timers_set, nudge_due[i])
        for message in change.outbox:  # what placing the order said went out then, not in the burst
            message.status = OutboxStatus.SENT
            await store.update_outbox(message)
        await runtime._after_commits([change])

    chunk = 64
    for start in range(0, len(ids), chunk):
        await asyncio.gather(*(one(i) for i in range(start, min(start + chunk, len(ids)))))
    await store.close()


async def seed_bare_timers(store_url: str, timers: Sequence[Timer], batch: int = 1000) -> None:
    """Timers only (no order): one Commit carries `batch` timers of other
    conversations, which both stores support; fast enough for 100k."""
    store = await open_store(store_url)
    for n, start in enumerate(range(0, len(timers), batch)):
        change = Commit(
            conversation=Conversation(id=f"seed-{n}", order_id=f"seed-{n}"),
            order=None,
            inbound_source_id=f"seed-{n}",
            timers_set=list(timers[start : start + batch]),
        )
        await store.commit(change)
    await store.close()


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def whole_second_after(seconds: float) -> datetime:
    """The start of a whole UTC second at least `seconds` from now."""
    return utc(float(int(time.time() + seconds) + 1))


async def wait_until(ts: float) -> None:
    delay = ts - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


class BenchRedis(RedisServer):
    """tests/redis_server.py's throw-away redis-server (127.0.0.1, free port,
    AOF), switched to `appendfsync everysec`, the usual production setting
    (the tests use `always` to survive SIGKILL)."""

    def start(self, timeout: float = 10.0) -> None:
        super().start(timeout)
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port)
        client.config_set("appendfsync", "everysec")
        client.close()
