"""The web chat door: the page at /chat (static HTML, JS and CSS served by the
bot, words from `templates/<locale>/webchat.toml`) and its JSON API. A buyer
opens the link with their order's token and gets an unguessable session made
by the server; one session may hold several orders."""

from __future__ import annotations

import hashlib
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from bot.api.chat_body import body_schema, check_session, fail, read_json
from bot.api.chat_views import label_of, order_view
from bot.channels.webchat import ChatHub
from bot.media import MediaFiles, UploadRules
from bot.rendering import parse_callback
from bot.runtime import Runtime
from dialogs.model import LANGUAGES, Inbound

PAGE = Path(__file__).with_name("chat.html")  # its script and styles: bot/static/chat.{js,css}
CHANNEL = "webchat"
MAX_TEXT = 4096
MAX_BODY = 32 * 1024  # as the body-limit middleware allows for /chat/api/
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
#: the page runs only its own files; it may show only the bot's own images and videos
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@dataclass
class WebChat:
    """What the web chat's routes share."""

    runtime: Runtime
    templates: Path
    hub: ChatHub = field(default_factory=ChatHub)
    files: MediaFiles | None = None
    rules: UploadRules = field(default_factory=UploadRules)
    store_name: str = ""

    async def orders_of(self, session: str) -> list[str]:
        orders = await self.runtime.store.bound(CHANNEL, check_session(session))
        if not orders:
            raise fail(404, "unknown_session")
        return orders

    async def order_of(self, session: str, order_id: str | None) -> str:
        orders = await self.orders_of(session)
        if order_id is None:
            return orders[0]
        if order_id not in orders:
            raise fail(404, "unknown_order")
        return order_id


class BindIn(BaseModel):
    token: str = Field(min_length=8, max_length=64)
    #: a session this browser already has (made by the server); new orders join it
    session: str | None = Field(None, min_length=32, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class MessageIn(BaseModel):
    session: str = Field(min_length=32, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    #: which of the session's orders (default: the most recent)
    order: str | None = Field(None, min_length=1, max_length=64)
    text: str | None = Field(None, max_length=MAX_TEXT)
    data: str | None = Field(None, max_length=64)
    #: the page's id of this message: a retry with the same id is taken once
    client_id: str | None = Field(None, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


@lru_cache(maxsize=16)
def page_words(templates: Path, language: str) -> dict[str, Any]:
    """The page's own words in `language`, English filling any gap."""

    def load(lang: str) -> dict[str, Any]:
        path = templates / lang / "webchat.toml"
        return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    words, fallback = load(language), load("en")
    merged = {**fallback, **words}
    for section, values in fallback.items():
        if isinstance(values, dict):
            merged[section] = {**values, **words.get(section, {})}
    return merged


def chat_router(chat: WebChat) -> APIRouter:
    router = APIRouter()
    runtime, store = chat.runtime, chat.runtime.store

    @router.get("/chat", include_in_schema=False)
    async def page() -> FileResponse:
        headers = {"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-cache"}
        return FileResponse(PAGE, media_type="text/html", headers=headers)

    @router.get("/chat/words/{language}", summary="The web chat page's words in a language (en, ru, es, pt, fr)")
    async def words(language: str) -> Any:
        short = language.lower()[:2]
        return page_words(chat.templates, short if short in LANGUAGES else "en")

    @router.post("/chat/api/bind", summary="Bind a web chat session to the order of a link token",
                 openapi_extra=body_schema(BindIn), responses={404: {}, 413: {}, 422: {}})  # fmt: skip
    async def bind(request: Request) -> Any:
        body = await read_json(request, BindIn, MAX_BODY)
        order_id = await store.order_for_token(body.token)
        if order_id is None:
            raise fail(404, "invalid_link")
        session = body.session
        if session is None or not await store.bound(CHANNEL, session):
            session = secrets.token_urlsafe(32)  # never one the browser chose
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

    @router.get("/chat/api/orders", summary="The orders of this session, newest first", responses={404: {}, 422: {}})
    async def orders(session: str) -> Any:
        views = []
        for order_id in await chat.orders_of(session):
            conversation, order = await store.load(order_id)
            views.append(order_view(order, conversation, chat.store_name))
        mb = 1024 * 1024
        limits = {"image_mb": round(chat.rules.image_max / mb, 1), "video_mb": round(chat.rules.video_max / mb, 1)}
        return {"orders": views, "limits": {k: int(v) if v == int(v) else v for k, v in limits.items()}}

    @router.post("/chat/api/messages", status_code=202, summary="The buyer writes or presses a button",
                 openapi_extra=body_schema(MessageIn), responses={404: {}, 413: {}, 422: {}})  # fmt: skip
    async def post_message(request: Request) -> Any:
        body = await read_json(request, MessageIn, MAX_BODY)
        order_id = await chat.order_of(body.session, body.order)
        key = body.client_id or secrets.token_hex(8)
        source_id = f"web:{hashlib.sha256(body.session.encode()).hexdigest()[:16]}:{key}"
        payload: dict[str, Any] = {"channel": CHANNEL, "address": body.session}
        if body.data:
            parsed = parse_callback(body.data)
            if parsed is None or parsed[2] != order_id:
                raise fail(422, "stale_button")
            action, dialog, _ = parsed
            label = label_of(await store.transcript(order_id), body.data)
            pressed = {**payload, "action": action, "dialog": dialog, "label": label}
            inbound = Inbound(order_id, "button_pressed", pressed, source_id, runtime.clock.now())
        elif body.text and body.text.strip():
            inbound = Inbound(order_id, "buyer_message", {**payload, "text": body.text}, source_id,
                              runtime.clock.now())  # fmt: skip
        else:
            raise fail(422, "empty_message")
        await runtime.submit(inbound)  # a retry of the same client_id is accepted once
        chat.hub.notify_soon(order_id)
        return {"accepted": True, "order_id": order_id}

    return router
