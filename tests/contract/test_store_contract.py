"""The `Store` contract, run against every backend: what the bot relies on
(dedupe, atomic commits, redelivery safety, timers, locks, durability)."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from bot.storage import codec, open_store
from bot.storage.redis import RedisStore
from dialogs.model import (
    Commit,
    OutboxStatus,
    Ownership,
    Timer,
    TranscriptEntry,
)
from dialogs.ports import Store
from tests.contract.records import T0, commit, conversation, entry, inbound, message, order
from tests.redis_server import RedisServer, free_port

Reopen = Callable[[Store], Awaitable[Store]]
only_redis = pytest.mark.parametrize("store", ["redis"], indirect=True)


async def test_accept_records_an_inbound_only_once(store: Store) -> None:
    assert await store.accept(inbound("e1")) is True
    assert await store.accept(inbound("e1", minutes=5)) is False
    assert await store.pending_inbound() == [inbound("e1")]


async def test_accept_still_dedupes_after_processing(store: Store) -> None:
    await store.accept(inbound("e1"))
    await store.commit(commit("e1"))
    assert await store.accept(inbound("e1")) is False
    assert await store.pending_inbound() == []


async def test_accept_dedupes_after_a_restart(store: Store, reopen: Reopen) -> None:
    await store.accept(inbound("e1"))
    await store.accept(inbound("e2"))
    await store.commit(commit("e1"))
    store = await reopen(store)
    assert await store.accept(inbound("e1")) is False
    assert await store.accept(inbound("e2")) is False
    assert await store.pending_inbound() == [inbound("e2")]


async def test_pending_inbound_is_oldest_first_and_drops_committed(store: Store) -> None:
    for n, source in enumerate(["e3", "e1", "e2"]):
        await store.accept(inbound(source, conversation_id=f"c{n}", minutes=n))
    assert [i.source_id for i in await store.pending_inbound()] == ["e3", "e1", "e2"]
    assert [i.source_id for i in await store.pending_inbound(limit=2)] == ["e3", "e1"]
    await store.commit(commit("e1", conversation_id="c1"))
    assert [i.source_id for i in await store.pending_inbound()] == ["e3", "e2"]


async def test_commit_marks_a_never_accepted_source_as_processed(store: Store) -> None:
    await store.commit(commit("timer:c1:remind"))
    assert await store.accept(inbound("timer:c1:remind")) is False


async def test_commit_saves_conversation_and_order(store: Store) -> None:
    assert await store.load("c1") == (None, None)
    conv = conversation(ownership=Ownership.AGENT, buyer_replied=True, misunderstandings=2)
    await store.commit(Commit(conv, order(), "e1"))
    assert await store.load("c1") == (conv, order())
    conv.step, conv.state = 4, "delivered"
    await store.commit(Commit(conv, None, "e2"))
    assert await store.load("c1") == (conv, order()), "a commit without order keeps the saved one"


async def test_conversations_lists_every_saved_conversation(store: Store) -> None:
    await store.commit(commit("e1", conversation_id="c2"))
    await store.commit(commit("e2", conversation_id="c1"))
    assert sorted(c.id for c in await store.conversations()) == ["c1", "c2"]


async def test_redelivered_commit_keeps_existing_outbox_messages(store: Store) -> None:
    await store.commit(commit("e1", outbox=[message("m1"), message("m2")]))
    sent = message("m1", status=OutboxStatus.SENT, attempts=1, channel_message_id="tg-1")
    await store.update_outbox(sent)
    again = [message("m1", template="changed"), message("m2", template="changed"), message("m3")]
    await store.commit(commit("e1", outbox=again))
    outbox = await store.outbox_for("c1")
    assert [m.id for m in outbox] == ["m1", "m2", "m3"]
    assert outbox[0] == sent, "a sent message is neither reset nor re-queued"
    assert outbox[1] == message("m2")
    assert [m.id for m in await store.pending_outbox()] == ["m2", "m3"]


async def test_pending_outbox_follows_status_changes_in_original_order(store: Store) -> None:
    await store.commit(commit("e1", outbox=[message(f"m{n}") for n in range(1, 12)]))
    await store.commit(commit("e2", conversation_id="c2", outbox=[message("x1", conversation_id="c2")]))
    assert [m.id for m in await store.pending_outbox(limit=3)] == ["m1", "m2", "m3"]
    await store.update_outbox(message("m1", status=OutboxStatus.SENDING, attempts=1))
    await store.update_outbox(message("m2", status=OutboxStatus.HELD))
    await store.update_outbox(message("m3", status=OutboxStatus.FAILED, error="blocked"))
    pending = await store.pending_outbox()
    assert [m.id for m in pending][:3] == ["m1", "m4", "m5"] and pending[-1].id == "x1"
    await store.update_outbox(message("m2", status=OutboxStatus.PENDING))
    assert [m.id for m in await store.pending_outbox(limit=3)] == ["m1", "m2", "m4"]


async def test_update_outbox_changes_only_delivery_fields(store: Store) -> None:
    await store.commit(commit("e1", outbox=[message("m1")]))
    later = T0 + timedelta(seconds=30)
    update = message(
        "m1", template="other", step=9, status=OutboxStatus.PENDING, attempts=2, error="429",
        not_before=later, channel="whatsapp", address="+100",
    )  # fmt: skip
    await store.update_outbox(update)
    expected = message(
        "m1", attempts=2, error="429", not_before=later, channel="whatsapp", address="+100"
    )  # fmt: skip
    assert await store.get_outbox("m1") == expected
    assert await store.get_outbox("nope") is None


async def test_find_outbox_by_channel_message_id(store: Store) -> None:
    await store.commit(commit("e1", outbox=[message("m1"), message("m2")]))
    await store.update_outbox(message("m2", status=OutboxStatus.SENT, channel_message_id="wamid.77"))
    found = await store.find_outbox_by_channel_id("wamid.77")
    assert found is not None and found.id == "m2" and found.status == OutboxStatus.SENT
    assert await store.find_outbox_by_channel_id("wamid.0") is None


async def test_timers_are_set_replaced_and_cancelled(store: Store) -> None:
    remind, deadline = T0 + timedelta(hours=1), T0 + timedelta(days=3)
    await store.commit(commit("e1", timers_set=[Timer("c1", "remind", remind), Timer("c1", "deadline", deadline)]))
    assert await store.get_timer("c1", "remind") == Timer("c1", "remind", remind)
    later = remind + timedelta(hours=5)
    await store.commit(commit("e2", timers_set=[Timer("c1", "remind", later)]))
    assert await store.timers_for("c1") == [Timer("c1", "remind", later), Timer("c1", "deadline", deadline)]
    await store.commit(commit("e3", timers_cancelled=["deadline", "never-set"]))
    assert await store.timers() == [Timer("c1", "remind", later)]
    assert await store.get_timer("c1", "deadline") is None


async def test_cancel_and_rearm_in_one_commit_leaves_the_timer_armed(store: Store) -> None:
    await store.commit(commit("e1", timers_set=[Timer("c1", "remind", T0)]))
    rearmed = Timer("c1", "remind", T0 + timedelta(hours=2))
    await store.commit(commit("e2", timers_set=[rearmed], timers_cancelled=["remind"]))
    assert await store.timers() == [rearmed]


async def test_timers_come_soonest_first(store: Store) -> None:
    for n, hours in enumerate([5, 1, 3, 2]):
        due = T0 + timedelta(hours=hours, microseconds=n)
        await store.commit(commit(f"e{n}", conversation_id=f"c{n}", timers_set=[Timer(f"c{n}", "t", due)]))
    timers = await store.timers()
    assert [t.conversation_id for t in timers] == ["c1", "c3", "c2", "c0"]
    assert timers[0].due_at == T0 + timedelta(hours=1, microseconds=1)


async def test_transcript_appends_and_pages_after_a_sequence_number(store: Store) -> None:
    await store.commit(commit("e1", transcript=[entry("hello"), entry("Hi! Your order…", author="bot")]))
    await store.append_transcript([entry("thanks"), entry("other chat", conversation_id="c2")])
    first = await store.transcript("c1")
    assert [(n, e.text) for n, e in first] == [(1, "hello"), (2, "Hi! Your order…"), (3, "thanks")]
    assert first[1][1] == entry("Hi! Your order…", author="bot")
    assert [e.text for _, e in await store.transcript("c1", after=2)] == ["thanks"]
    assert await store.transcript("c1", after=3) == []
    assert [n for n, _ in await store.transcript("c2")] == [1]


async def test_transcript_keeps_buttons(store: Store) -> None:
    buttons = ({"action": "confirm", "label": "Yes"},)
    await store.append_transcript([TranscriptEntry("c1", T0, "bot", "Received?", buttons)])
    assert [e.buttons for _, e in await store.transcript("c1")] == [buttons]


async def test_link_tokens_resolve_both_ways(store: Store) -> None:
    await store.put_link_token("tok-a", "o1")
    await store.put_link_token("tok-b", "o2")
    assert await store.order_for_token("tok-a") == "o1"
    assert await store.token_for_order("o2") == "tok-b"
    assert await store.order_for_token("tok-x") is None
    assert await store.token_for_order("o9") is None


async def test_bindings_list_most_recent_first_and_are_idempotent(store: Store) -> None:
    await store.bind("telegram", "42", "c1")
    await store.bind("telegram", "42", "c2")
    await store.bind("telegram", "42", "c2")
    await store.bind("whatsapp", "42", "c3")
    assert await store.bound("telegram", "42") == ["c2", "c1"]
    await store.bind("telegram", "42", "c1")
    assert await store.bound("telegram", "42") == ["c1", "c2"]
    assert await store.bound("telegram", "43") == []


async def test_tasks_are_kept_in_order(store: Store) -> None:
    task = {"kind": "refund", "details": {"amount": "3.50", "note": "ящик"}, "conversation_id": "c1"}
    await store.commit(commit("e1", tasks=[task]))
    await store.commit(commit("e2", tasks=[{"kind": "call"}]))
    assert await store.tasks() == [task, {"kind": "call"}]


async def test_lock_makes_a_second_holder_wait(store: Store) -> None:
    events: list[str] = []
    held = asyncio.Event()

    async def first() -> None:
        async with store.lock("c1"):
            events.append("first in")
            held.set()
            await asyncio.sleep(0.1)
            events.append("first out")

    async def second() -> None:
        await held.wait()
        async with store.lock("c1"):
            events.append("second in")

    async def other() -> None:
        await held.wait()
        async with store.lock("c2"):
            events.append("other conversation in")

    await asyncio.wait_for(asyncio.gather(first(), second(), other()), 5)
    assert events == ["first in", "other conversation in", "first out", "second in"]


@only_redis
async def test_redis_lock_excludes_another_process(store: Store) -> None:
    other = await open_store(store.url)  # type: ignore[attr-defined]
    try:
        async with store.lock("c1"):
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2), other.lock("c1"):
                    pass
        async with asyncio.timeout(1), other.lock("c1"):
            pass
    finally:
        await other.close()


async def test_data_survives_closing_and_reopening(store: Store, reopen: Reopen) -> None:
    due = T0 + timedelta(hours=1)
    change = commit("e1", outbox=[message("m1")], timers_set=[Timer("c1", "remind", due)])
    change.transcript, change.tasks = [entry("hello")], [{"kind": "refund"}]
    await store.commit(change)
    await store.bind("telegram", "42", "c1")
    await store.put_link_token("tok", "o1")
    store = await reopen(store)
    assert await store.load("c1") == (conversation(), order())
    assert await store.pending_outbox() == [message("m1")]
    assert await store.timers() == [Timer("c1", "remind", due)]
    assert [e for _, e in await store.transcript("c1")] == [entry("hello")]
    assert await store.tasks() == [{"kind": "refund"}]
    assert await store.bound("telegram", "42") == ["c1"]
    assert await store.order_for_token("tok") == "o1"


@only_redis
async def test_redis_commit_survives_a_redis_crash(store: Store, reopen: Reopen, redis_server: RedisServer) -> None:
    await store.accept(inbound("e2"))
    await store.commit(commit("e1", outbox=[message("m1")], timers_set=[Timer("c1", "remind", T0)]))
    redis_server.kill()
    redis_server.start()
    store = await reopen(store)
    assert await store.load("c1") == (conversation(), order())
    assert [m.id for m in await store.pending_outbox()] == ["m1"]
    assert await store.timers() == [Timer("c1", "remind", T0)]
    assert await store.pending_inbound() == [inbound("e2")]
    assert await store.accept(inbound("e1")) is False


@only_redis
async def test_redis_memory_per_conversation_is_small(store: Store, redis_server: RedisServer) -> None:
    n = 1000
    client = redis.Redis.from_url(redis_server.url)
    before = int(client.info("memory")["used_memory"])
    for i in range(n):
        cid = f"ord-{100000 + i}"
        change = Commit(conversation(cid, order_id=cid), order(cid), f"evt-{cid}-placed")
        change.timers_set = [Timer(cid, "remind", T0 + timedelta(hours=i))]
        await store.accept(inbound(f"evt-{cid}-placed", conversation_id=cid))
        await store.commit(change)
    per_conversation = (int(client.info("memory")["used_memory"]) - before) / n
    client.close()
    assert len(await store.timers()) == n and await store.pending_inbound() == []
    assert per_conversation <= 2048, f"{per_conversation:.0f} bytes of Redis memory per conversation"


async def test_ping_answers_on_a_live_store(store: Store) -> None:
    await store.ping()


async def test_ping_fails_fast_when_redis_is_down() -> None:
    store = await open_store(f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    with pytest.raises(ConnectionError, match="unreachable"):
        await store.ping()
    assert time.monotonic() - started <= 2
    await store.close()


async def test_ping_fails_fast_when_redis_does_not_answer() -> None:
    store = await RedisStore.open("redis://10.255.255.1:6379/0", connect_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ConnectionError):
        await store.ping()
    assert time.monotonic() - started <= 2
    await store.close()


async def test_open_store_rejects_an_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="BUYERBOT_STORE_URL"):
        await open_store("postgres://localhost/bot")


async def test_open_store_takes_a_relative_sqlite_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = await open_store("sqlite:///var/data/bot.db")
    await store.ping()
    await store.close()
    assert (tmp_path / "var" / "data" / "bot.db").exists()


# -- batched reads and writes (a burst of due follow-ups) ----------------------


async def test_load_many_reads_conversations_orders_and_the_timers_asked_for(store: Store) -> None:
    due = T0 + timedelta(hours=1)
    await store.commit(commit("e1", timers_set=[Timer("c1", "nudge", due)]))
    await store.commit(commit("e2", conversation_id="c2", order=None))
    loaded = await store.load_many([("c1", "nudge"), ("c2", "nudge"), ("c9", None), ("c1", None)])
    assert loaded == [
        (conversation("c1"), order(), Timer("c1", "nudge", due)),
        (conversation("c2"), None, None),
        (None, None, None),
        (conversation("c1"), order(), None),
    ]
    assert await store.load_many([]) == []


async def test_commit_many_writes_every_change_like_commit(store: Store) -> None:
    due = T0 + timedelta(hours=1)
    await store.accept(inbound("e1", conversation_id="c1"))
    await store.accept(inbound("e2", conversation_id="c2"))
    changes = [
        commit("e1", outbox=[message("m1")], timers_set=[Timer("c1", "nudge", due)], transcript=[entry("a")]),
        commit("e2", conversation_id="c2", outbox=[message("m2", conversation_id="c2")], tasks=[{"kind": "k"}]),
    ]
    await store.commit_many(changes)
    assert await store.load("c1") == (conversation("c1"), order())
    assert await store.load("c2") == (conversation("c2"), order())
    assert [m.id for m in await store.pending_outbox()] == ["m1", "m2"]
    assert await store.timers() == [Timer("c1", "nudge", due)]
    assert [e.text for _, e in await store.transcript("c1")] == ["a"]
    assert await store.tasks() == [{"kind": "k"}]
    assert await store.pending_inbound() == []
    assert await store.accept(inbound("e2", conversation_id="c2")) is False
    await store.commit_many([])


async def test_commit_many_is_all_or_nothing(store: Store) -> None:
    good = commit("e1", outbox=[message("m1")])
    bad = commit("e2", conversation_id="c2", outbox=[message("m2", conversation_id="c2")])
    bad.outbox[0].created_at = "not a datetime"  # type: ignore[assignment]  # cannot be encoded
    with pytest.raises(AttributeError):
        await store.commit_many([good, bad])
    assert await store.load("c1") == (None, None), "nothing of the batch is written"
    assert await store.conversations() == []
    assert await store.pending_outbox() == []


async def test_commit_can_bind_and_store_a_link_token_in_its_transaction(store: Store) -> None:
    await store.bind("telegram", "424242", "c0")
    change = commit("e1")
    change.bind, change.link_token = True, "tok-first"
    await store.commit(change)
    assert await store.bound("telegram", "424242") == ["c1", "c0"], "bound, most recent first"
    assert await store.token_for_order("o1") == "tok-first"
    again = commit("e2")
    again.bind, again.link_token = True, "tok-second"
    await store.commit(again)
    assert await store.token_for_order("o1") == "tok-first", "an order keeps its first token"
    assert await store.order_for_token("tok-first") == "o1"
    assert await store.order_for_token("tok-second") is None
    await store.commit(commit("e3", conversation_id="c3"))
    assert await store.bound("telegram", "424242") == ["c1", "c0"], "no binding unless asked"


async def test_load_locked_takes_only_free_locks_and_releases_them(store: Store) -> None:
    async with _held_by_another_task(store, "c2"):
        async with store.load_locked([("c1", None), ("c2", None), ("c3", None)]) as taken:
            assert list(taken) == ["c1", "c3"]
            waiting = asyncio.create_task(_take(store, "c1"))
            await asyncio.sleep(0.05)
            assert not waiting.done(), "a lock taken by load_locked excludes others"
        await asyncio.wait_for(waiting, 5)
    async with store.load_locked([("c1", None), ("c2", None)]) as taken:
        assert list(taken) == ["c1", "c2"]


async def _take(store: Store, conversation_id: str) -> None:
    async with store.lock(conversation_id):
        pass


@asynccontextmanager
async def _held_by_another_task(store: Store, conversation_id: str) -> AsyncIterator[None]:
    entered, leave = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with store.lock(conversation_id):
            entered.set()
            await leave.wait()

    holder = asyncio.create_task(hold())
    await entered.wait()
    try:
        yield
    finally:
        leave.set()
        await holder


async def test_claim_outbox_marks_sending_once_per_attempt(store: Store) -> None:
    await store.commit(commit("e1", outbox=[message("m1"), message("m2")]))
    claimed = await store.claim_outbox("m1")
    assert claimed == message("m1", status=OutboxStatus.SENDING, attempts=1)
    assert await store.get_outbox("m1") == claimed
    again = await store.claim_outbox("m1")  # e.g. after a crash: SENDING may be tried again
    assert again is not None and again.attempts == 2
    await store.update_outbox(message("m2", status=OutboxStatus.SENT, attempts=1))
    assert await store.claim_outbox("m2") is None, "a sent message is never claimed again"
    assert (await store.get_outbox("m2")) == message("m2", status=OutboxStatus.SENT, attempts=1)
    assert await store.claim_outbox("nope") is None


async def test_finish_outbox_updates_and_appends_the_transcript_together(store: Store) -> None:
    await store.commit(commit("e1", outbox=[message("m1")], transcript=[entry("hello")]))
    done = message("m1", status=OutboxStatus.SENT, attempts=1, channel_message_id="tg-9")
    await store.finish_outbox(done, [entry("sent text", author="bot")])
    assert await store.get_outbox("m1") == done
    assert await store.pending_outbox() == []
    assert await store.find_outbox_by_channel_id("tg-9") == done
    assert [(n, e.text) for n, e in await store.transcript("c1")] == [(1, "hello"), (2, "sent text")]
    with pytest.raises(KeyError):
        await store.finish_outbox(message("nope", status=OutboxStatus.SENT), [entry("x")])
    assert len(await store.transcript("c1")) == 2, "nothing appended for an unknown message"


async def test_load_locked_takes_free_locks_and_loads_what_they_protect(store: Store) -> None:
    due = T0 + timedelta(hours=12)
    await store.commit(commit("e1", timers_set=[Timer("c1", "nudge", due)]))
    await store.commit(commit("e2", conversation_id="c2"))
    async with _held_by_another_task(store, "c2"):
        async with store.load_locked([("c1", "nudge"), ("c2", None), ("c9", None)]) as taken:
            assert sorted(taken) == ["c1", "c9"], "c2 is held elsewhere: left out, not waited for"
            conv, saved_order, timer = taken["c1"]
            assert conv is not None and conv.id == "c1" and saved_order == order()
            assert timer == Timer("c1", "nudge", due)
            assert taken["c9"] == (None, None, None)
            waiting = asyncio.create_task(_take(store, "c1"))
            await asyncio.sleep(0.05)
            assert not waiting.done(), "a lock taken by load_locked excludes others"
        await asyncio.wait_for(waiting, 5)


async def test_concurrent_calls_each_get_their_own_answer(store: Store) -> None:
    """Many callers at once (a burst of updates; the sender's claims): each is
    answered as if alone, and one caller's error is not another's."""
    await store.commit(commit("e0", outbox=[message(f"m{n}") for n in range(20)]))
    accepted = await asyncio.gather(*(store.accept(inbound(f"e{n % 30}")) for n in range(60)))
    assert sum(accepted) == 29, "e0 was processed already; e1..e29 accepted once each"
    claims = [store.claim_outbox(f"m{n}") for n in range(20)] + [store.claim_outbox("nope")]
    unknown = store.finish_outbox(message("nope", status=OutboxStatus.SENT))
    *claimed, failed = await asyncio.gather(*claims, unknown, return_exceptions=True)
    assert isinstance(failed, KeyError)
    assert [m.id if m else None for m in claimed] == [f"m{n}" for n in range(20)] + [None]
    assert all(m.status is OutboxStatus.SENDING and m.attempts == 1 for m in claimed if m)


@only_redis
async def test_redis_commit_under_a_lock_lets_other_processes_in(store: Store) -> None:
    other = await open_store(store.url)  # type: ignore[attr-defined]
    try:
        async with store.lock("c1"):
            bad = commit("e1", outbox=[message("m1")])
            bad.outbox[0].created_at = "not a datetime"  # type: ignore[assignment]  # cannot be encoded
            with pytest.raises(Exception):  # noqa: B017 - whatever the encoder raises
                await store.commit(bad)
            await asyncio.create_task(store.commit(commit("e0")))  # not the holder: releases nothing
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2), other.lock("c1"):
                    pass
            await store.commit(commit("e1"))
            async with asyncio.timeout(1), other.lock("c1"):  # released with the commit
                pass
    finally:
        await other.close()


@only_redis
async def test_redis_scripts_lost_by_the_server_are_sent_again(store: Store, redis_server: RedisServer) -> None:
    """Scripts go by SHA1; a Redis that restarted without them (SCRIPT FLUSH
    here) gets their text once, and nothing runs twice."""
    assert isinstance(store, RedisStore)
    await store.accept(inbound("e1"))
    await store.commit(commit("e1", outbox=[message("m1")], transcript=[entry("hello")]))
    client = redis.Redis.from_url(redis_server.url)
    try:
        client.script_flush()
        assert await store.accept(inbound("e2")) is True
        assert await store.accept(inbound("e2")) is False
        await asyncio.gather(store.commit(commit("e2", transcript=[entry("again")])), store.claim_outbox("m1"))
        client.script_flush()
        await store.finish_outbox(message("m1", status=OutboxStatus.SENT, attempts=1), [entry("sent")])
    finally:
        client.close()
    assert [e.text for _, e in await store.transcript("c1")] == ["hello", "again", "sent"]
    assert await store.get_outbox("m1") == message("m1", status=OutboxStatus.SENT, attempts=1)


async def test_redis_that_stops_answering_fails_calls_after_the_timeout(redis_server: RedisServer) -> None:
    """A Redis that hangs (SIGSTOP): calls fail after the store's timeout
    instead of waiting forever, and work again once it answers."""
    store = await RedisStore.open(f"{redis_server.url}?prefix=hang-test:", socket_timeout=0.5)
    try:
        await store.commit(commit("e1"))
        assert redis_server.process is not None
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises((TimeoutError, redis.exceptions.TimeoutError)):
                async with asyncio.timeout(5):  # a guard: without the store's own timeout, this fires
                    await store.load_many([("c1", None)])
            assert time.monotonic() - started < 3, "the store's own timeout (0.5 s) fired"
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
        conv, _ = await store.load("c1")
        assert conv is not None and conv.id == "c1"
    finally:
        await store.close()


@only_redis
async def test_redis_pending_messages_of_the_previous_layout_are_still_delivered(
    store: Store, redis_server: RedisServer
) -> None:
    """Messages written before the delivery fields had their own hash: after
    start-up (`ping`) they are claimed and read as before."""
    assert isinstance(store, RedisStore)
    await store.commit(commit("e1", outbox=[message("m1"), message("m2")]))
    await store.update_outbox(message("m2", status=OutboxStatus.SENT, attempts=1, channel_message_id="tg-2"))
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:  # the old layout: the delivery fields only in the body
        old_m2 = message("m2", status=OutboxStatus.SENT, attempts=1, channel_message_id="tg-2")
        client.hset(f"{store.prefix}ob", "m2", f"2|{codec.encode_outbox(old_m2)}")
        client.hdel(f"{store.prefix}os", "m1", "m2")
    finally:
        client.close()
    assert await store.get_outbox("m2") == old_m2, "read from the body"
    await store.ping()
    claimed = await store.claim_outbox("m1")
    assert claimed == message("m1", status=OutboxStatus.SENDING, attempts=1)
    assert await store.claim_outbox("m2") is None, "a sent message stays sent"
