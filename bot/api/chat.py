"""The web chat door: a page at /chat and a small JSON API. A buyer opens the
link with their order's token, gets an unguessable session, and talks."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from bot.rendering import parse_callback
from bot.runtime import Runtime
from dialogs.model import Inbound

PAGE = Path(__file__).with_name("chat.html")
CHANNEL = "webchat"
MAX_TEXT = 4096


class BindIn(BaseModel):
    token: str = Field(min_length=8, max_length=64)
    session: str | None = Field(None, max_length=64)


class MessageIn(BaseModel):
    session: str = Field(min_length=16, max_length=64)
    text: str | None = Field(None, max_length=MAX_TEXT)
    data: str | None = Field(None, max_length=64)


def chat_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    store = runtime.store

    @router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> str:
        return PAGE.read_text(encoding="utf-8")

    @router.post("/chat/api/bind", summary="Bind a web chat session to the order of a link token")
    async def bind(body: BindIn) -> Any:
        order_id = await store.order_for_token(body.token)
        if order_id is None:
            raise HTTPException(404, "this link is not valid; please check the link in your order message")
        session = body.session or secrets.token_urlsafe(24)
        already = order_id in await store.bound(CHANNEL, session)
        await store.bind(CHANNEL, session, order_id)
        if not already:
            await runtime.submit(
                Inbound(order_id, "buyer_bound", {"channel": CHANNEL, "address": session},
                        f"bind:{CHANNEL}:{session}:{order_id}", runtime.clock.now())
            )  # fmt: skip
        conversation, _ = await store.load(order_id)
        language = conversation.language if conversation else "en"
        return {"session": session, "order_id": order_id, "language": language}

    @router.post("/chat/api/messages", status_code=202, summary="The buyer writes or presses a button")
    async def post_message(body: MessageIn) -> Any:
        orders = await store.bound(CHANNEL, body.session)
        if not orders:
            raise HTTPException(404, "unknown session; open your order link again")
        message_id = secrets.token_hex(8)
        payload: dict[str, Any] = {"channel": CHANNEL, "address": body.session}
        if body.data:
            parsed = parse_callback(body.data)
            if parsed is None or parsed[2] not in orders:
                raise HTTPException(422, "unknown button")
            action, dialog, order_id = parsed
            inbound = Inbound(order_id, "button_pressed", {**payload, "action": action, "dialog": dialog},
                              f"web:{message_id}", runtime.clock.now())  # fmt: skip
        elif body.text and body.text.strip():
            inbound = Inbound(orders[0], "buyer_message", {**payload, "text": body.text},
                              f"web:{message_id}", runtime.clock.now())  # fmt: skip
        else:
            raise HTTPException(422, "send text or a button")
        await runtime.submit(inbound)
        return {"accepted": True}

    @router.get("/chat/api/messages", summary="Messages of this session's orders after a cursor")
    async def get_messages(session: str, after: str = "") -> Any:
        orders = await store.bound(CHANNEL, session)
        if not orders:
            raise HTTPException(404, "unknown session")
        cursors = dict(part.split("=", 1) for part in after.split(",") if "=" in part)
        messages: list[dict[str, Any]] = []
        for order_id in orders:
            for seq, entry in await store.transcript(order_id, int(cursors.get(order_id, "0") or 0)):
                cursors[order_id] = str(seq)
                if entry.author in ("buyer", "bot", "agent"):
                    messages.append({**entry.to_dict(), "seq": seq})
        messages.sort(key=lambda m: m["at"])
        return {"messages": messages, "cursor": ",".join(f"{k}={v}" for k, v in cursors.items())}

    return router
