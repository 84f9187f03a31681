"""The WhatsApp door: the Cloud API webhook (verification handshake, signed
notifications, each message id once via the inbox) and the WhatsApp channel."""

from __future__ import annotations

import hmac
import json
import logging
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from bot.api.events import read_limited
from bot.channels.number_binding import BindingLimits, NumberBinding
from bot.channels.whatsapp_binding import WhatsAppBinder
from bot.channels.whatsapp_channel import WhatsAppChannel
from bot.channels.whatsapp_webhook import (
    SIGNATURE_HEADER,
    MalformedWebhook,
    WaMessage,
    WaStatus,
    parse_webhook,
    signature_ok,
)
from bot.config import Settings
from bot.rendering import Renderer, parse_callback
from bot.runtime import Runtime
from bot.storage.guard import open_guard, store_url_of
from dialogs.intents import detect_language
from dialogs.model import Inbound, OutboxStatus
from dialogs.policy import Policy
from dialogs.ports import RenderedMessage

__all__ = ["WhatsAppChannel", "WhatsAppDoor"]
log = logging.getLogger(__name__)
CHANNEL = "whatsapp"
MAX_BODY = 1024 * 1024
#: how long a message id of an unbound number is remembered (Meta retries for days)
SEEN_FOR = 14 * 86400.0
STATUS_ORDER = ("sent", "delivered", "read")


class WhatsAppDoor:
    def __init__(self, settings: Settings, runtime: Runtime, policy: Policy) -> None:
        assert settings.whatsapp_phone_id and settings.whatsapp_token, "WhatsApp is not configured"
        self.settings, self.runtime, self.store = settings, runtime, runtime.store
        self.renderer = Renderer(settings.templates)
        self.channel = WhatsAppChannel(
            api_url=settings.whatsapp_api_url, phone_id=settings.whatsapp_phone_id,
            token=settings.whatsapp_token, store=runtime.store, policy=policy, clock=runtime.clock,
            menu_label=self._menu_label,
        )  # fmt: skip
        self.binder = WhatsAppBinder(runtime.store)
        #: in the store: message ids of unbound numbers (bound ones dedupe in the inbox), binding attempts
        self.guard = open_guard(store_url_of(runtime.store, settings))
        self.binding = NumberBinding(runtime, self.guard, CHANNEL, BindingLimits.from_policy(policy))
        self.router = self._routes()

    async def start(self) -> None:
        log.info("WhatsApp webhook at %s/whatsapp/webhook", self.settings.base_url)

    async def stop(self) -> None:
        await self.channel.close()
        await self.guard.close()

    def _menu_label(self, language: str) -> str:
        try:
            return self.renderer.label("menu", language)
        except LookupError:
            return "Choose"

    # -- HTTP ---------------------------------------------------------------
    def _routes(self) -> APIRouter:
        router = APIRouter(tags=["whatsapp"])
        verify_token = self.settings.whatsapp_verify_token or ""

        @router.get("/whatsapp/webhook", response_class=PlainTextResponse, summary="Meta's verification handshake",
                    responses={403: {"description": "wrong verify token or mode"}})  # fmt: skip
        async def verify(request: Request) -> PlainTextResponse:
            params = request.query_params
            token, challenge = params.get("hub.verify_token", ""), params.get("hub.challenge", "")
            good = verify_token and hmac.compare_digest(token.encode(), verify_token.encode())
            if params.get("hub.mode") != "subscribe" or not good or not challenge:
                raise HTTPException(403, "verification failed")
            return PlainTextResponse(challenge)

        @router.post("/whatsapp/webhook", summary="Signed WhatsApp notifications (messages, statuses)",
                     responses={401: {"description": "bad or missing X-Hub-Signature-256"},
                                400: {"description": "not a WhatsApp notification"}})  # fmt: skip
        async def receive(request: Request) -> JSONResponse:
            body = await read_limited(request, MAX_BODY)
            if not signature_ok(self.settings.whatsapp_app_secret, body, request.headers.get(SIGNATURE_HEADER)):
                raise HTTPException(401, "bad or missing X-Hub-Signature-256")
            try:
                messages, statuses = parse_webhook(json.loads(body), self.settings.whatsapp_phone_id)
            except (ValueError, MalformedWebhook) as exc:
                raise HTTPException(400, f"not a WhatsApp notification: {exc}") from None
            accepted = 0
            for message in messages:
                accepted += await self.on_message(message)
            for status in statuses:
                await self.on_status(status)
            return JSONResponse({"ok": True, "accepted": accepted})

        return router

    # -- messages -------------------------------------------------------------
    async def on_message(self, message: WaMessage) -> bool:
        """Hand one message over; True when it was new. Returns after it is stored."""
        now = self.runtime.clock.now()
        self.channel.saw_buyer(message.sender, now)
        orders = await self.binder.conversations(message.sender)
        if not orders:
            if not await self.guard.first(f"wa:seen:{message.id}", now.timestamp(), SEEN_FOR):
                return False  # a redelivery (or a replay), even after a restart
            await self._binding_talk(message)
            return True
        return await self.runtime.submit(self.to_inbound(message, orders, now))

    def to_inbound(self, message: WaMessage, orders: list[str], now: datetime) -> Inbound:
        payload: dict[str, Any] = {"channel": CHANNEL, "address": message.sender}
        source_id = f"wa:{message.id}"
        parsed = parse_callback(message.reply_id) if message.reply_id else None
        if parsed is not None and parsed[2] in orders:
            action, dialog, order_id = parsed
            pressed = {**payload, "action": action, "dialog": dialog, "label": message.text}
            return Inbound(order_id, "button_pressed", pressed, source_id, now)
        payload["text"] = message.text
        if message.media:
            payload["media"] = [dict(m) for m in message.media]
            payload["media_kind"] = message.media[0]["kind"]
        return Inbound(orders[0], "buyer_message", payload, source_id, now)

    async def _binding_talk(self, message: WaMessage) -> None:
        outcome = await self.binding.says(message.sender, message.text if not message.media else "")
        if not outcome.template:
            return  # bound: the welcome comes through the outbox
        text = self.renderer.text(outcome.template, await self._language(message), dict(outcome.context), CHANNEL)
        result = await self.channel.send(message.sender, RenderedMessage(text))
        if not result.ok:
            log.warning("binding reply to %s failed: %s", message.sender, result.error)

    async def _language(self, message: WaMessage) -> str:
        """The language this number last wrote in (WhatsApp tells none), else English."""
        key, now = f"wa:lang:{message.sender}", self.runtime.clock.now().timestamp()
        detected = detect_language(message.text) if message.text else None
        if detected:
            await self.guard.put(key, detected, now, 86400.0)
            return detected
        return await self.guard.get(key, now) or "en"

    # -- statuses -------------------------------------------------------------
    async def on_status(self, status: WaStatus) -> None:
        """Note sent/delivered/read on the outbox message; a failed delivery changes it."""
        message = await self.store.find_outbox_by_channel_id(status.id)
        if message is None:
            return
        if status.status == "failed":
            detail = status.errors[0].get("title") or status.errors[0].get("message") if status.errors else ""
            if status.error_code == 131047:
                message.status = OutboxStatus.HELD
                message.error = f"not delivered: outside the 24-hour window (131047 {detail}); needs a template"
            else:
                message.status = OutboxStatus.FAILED
                message.error = f"not delivered: WhatsApp {status.error_code}: {detail}"
            await self.store.update_outbox(message)
            return
        previous = _noted_status(message.error)
        if message.status is OutboxStatus.SENT and STATUS_ORDER.index(status.status) >= previous:
            message.error = f"whatsapp: {status.status} at {status.timestamp or self.runtime.clock.now().isoformat()}"
            await self.store.update_outbox(message)


def _noted_status(note: str | None) -> int:
    for index, name in reversed(list(enumerate(STATUS_ORDER))):
        if note and note.startswith(f"whatsapp: {name}"):
            return index
    return 0
