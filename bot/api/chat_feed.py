"""How the web chat page learns what happened: a live stream of Server-Sent
Events per order (messages with their sequence number as the event id, so a
reconnect catches up from the last one seen; a `state` event for the header
and the buttons), and a plain JSON read for scripts and tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from sse_starlette.sse import EventSourceResponse, ServerSentEvent

from bot.api.chat import WebChat
from bot.api.chat_body import check_session, fail
from bot.api.chat_views import message_view, shown, state_view

#: a stream re-reads this often even when nothing woke it (another process wrote)
POLL_SECONDS = 1.0
#: and ends after this long; the browser reconnects on its own and catches up
STREAM_SECONDS = 300.0
MAX_SEQ = 2**53


def parse_seq(value: str | None) -> int:
    """A transcript position from the client: 0..2**53, else 422 (never 500)."""
    if value is None or value == "":
        return 0
    if not value.isdigit() or len(value) > 16 or int(value) > MAX_SEQ:
        raise fail(422, "bad_cursor")
    return int(value)


def parse_cursor(after: str) -> dict[str, int]:
    """ "order=seq,order=seq" as written by GET /chat/api/messages."""
    cursors: dict[str, int] = {}
    for part in after.split(",") if after else []:
        order_id, sep, seq = part.partition("=")
        if not sep or not order_id:
            raise fail(422, "bad_cursor")
        cursors[order_id] = parse_seq(seq)
    return cursors


def feed_router(chat: WebChat) -> APIRouter:
    router = APIRouter()
    store = chat.runtime.store

    @router.get("/chat/api/messages", summary="Messages of this session's orders after a cursor",
                responses={404: {}, 422: {}})  # fmt: skip
    async def get_messages(session: str, after: Annotated[str, Query(max_length=2048)] = "") -> Any:
        orders = await chat.orders_of(session)
        cursors = parse_cursor(after)
        messages: list[dict[str, Any]] = []
        for order_id in orders:
            entries = await store.transcript(order_id, cursors.get(order_id, 0))
            if entries:
                cursors[order_id] = entries[-1][0]
            messages += [message_view(seq, entry, session) for seq, entry in shown(entries)]
        messages.sort(key=lambda m: m["at"])
        cursor = ",".join(f"{k}={v}" for k, v in cursors.items() if k in orders)
        return {"messages": messages, "cursor": cursor}

    @router.get("/chat/api/stream", summary="Live messages of one order (Server-Sent Events)",
                responses={200: {"content": {"text/event-stream": {}}}, 404: {}, 422: {}})  # fmt: skip
    async def stream(
        session: str,
        order: str | None = None,
        after: str | None = None,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> EventSourceResponse:
        order_id = await chat.order_of(session, order)
        start = parse_seq(last_event_id) if last_event_id else parse_seq(after)
        return EventSourceResponse(_events(chat, check_session(session), order_id, start), ping=15)

    return router


async def _events(chat: WebChat, session: str, order_id: str, seen: int) -> AsyncIterator[ServerSentEvent]:
    store = chat.runtime.store
    clock = chat.runtime.clock
    ends = clock.now().timestamp() + STREAM_SECONDS
    last_state: dict[str, Any] | None = None
    while clock.now().timestamp() < ends:
        entries = await store.transcript(order_id)
        for seq, entry in shown([(s, e) for s, e in entries if s > seen]):
            view = message_view(seq, entry, session)
            yield ServerSentEvent(json.dumps(view, ensure_ascii=False), event="message", id=str(seq))
        if entries:
            seen = max(seen, entries[-1][0])
        state = await state_view(store, order_id, shown(entries), chat.store_name)
        if state != last_state:
            last_state = state
            yield ServerSentEvent(json.dumps(state, ensure_ascii=False), event="state")
        await chat.hub.wait((session, order_id), POLL_SECONDS)
