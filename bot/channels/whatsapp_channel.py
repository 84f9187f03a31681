"""Sending on WhatsApp: free-form inside the 24-hour window, an approved
template (or HELD) outside it, straight to the Graph API with httpx."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.channels.whatsapp_messages import approved_template, build_payloads, classify, template_payload
from dialogs.locale_text import buyer_locale, money
from dialogs.model import OutboxMessage
from dialogs.policy import Policy, parse_duration
from dialogs.ports import Capabilities, Clock, RenderedMessage, SendResult, Store

log = logging.getLogger(__name__)
API_VERSION = "v21.0"
REMEMBERED = 10_000


class WhatsAppChannel:
    name = "whatsapp"
    capabilities = Capabilities(max_buttons=10, max_button_title=24, max_text=4096)

    def __init__(
        self,
        *,
        api_url: str,
        phone_id: str,
        token: str,
        store: Store,
        policy: Policy,
        clock: Clock,
        menu_label: Callable[[str], str] = lambda language: "Choose",
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = f"{api_url.rstrip('/')}/{API_VERSION}/{phone_id}/messages"
        self.store, self.policy, self.clock, self.menu_label = store, policy, clock, menu_label
        section = policy.raw.get("whatsapp", {})
        self.window: timedelta = parse_duration(section.get("window", "24h"), "whatsapp.window")
        headers = {"Authorization": f"Bearer {token}"}
        self.client = client or httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(15.0, connect=5.0))
        self.client.headers.update(headers)
        #: the buyer's last inbound per number, seen by this process (binding talk included)
        self.last_inbound: dict[str, datetime] = {}
        #: outbox id -> (request bodies already accepted, last wamid): a retry never resends a part
        self._progress: OrderedDict[str, tuple[int, str | None]] = OrderedDict()

    def saw_buyer(self, address: str, at: datetime) -> None:
        self.last_inbound[address] = at

    async def send(self, address: str, message: RenderedMessage) -> SendResult:
        outbox = await self.store.get_outbox(message.message_id) if message.message_id else None
        if outbox is not None and not await self.in_window(address, outbox):
            return await self._send_template(address, outbox)
        language = outbox.language if outbox is not None else "en"
        result = await self._post_all(address, message.message_id, build_payloads(message, self.menu_label(language)))
        if result.extra.get("code") == 131047 and outbox is not None:
            log.info("WhatsApp says the window of %s is closed; trying an approved template", address)
            return await self._send_template(address, outbox)
        return result

    async def close(self) -> None:
        await self.client.aclose()

    # -- the 24-hour window ----------------------------------------------
    async def in_window(self, address: str, outbox: OutboxMessage) -> bool:
        last = await self.last_buyer_message(address, outbox.conversation_id)
        return last is not None and self.clock.now() - last < self.window

    async def last_buyer_message(self, address: str, conversation_id: str) -> datetime | None:
        """The latest inbound of this number over every order bound to it (the window is per user)."""
        times = [self.last_inbound.get(address)]
        for cid in {conversation_id, *await self.store.bound(self.name, address)}:
            conversation, _ = await self.store.load(cid)
            times.append(conversation.last_buyer_message_at if conversation else None)
        known = [t for t in times if t is not None]
        return max(known) if known else None

    async def _send_template(self, address: str, outbox: OutboxMessage) -> SendResult:
        template = approved_template(self.policy.raw, outbox.template, outbox.language)
        if template is None:
            return SendResult(ok=False, held=True,
                              error=f"outside the {_human(self.window)} window and no approved template "
                                    f"configured for {outbox.template}")  # fmt: skip
        try:
            payload = template_payload(template, await self._template_values(outbox))
        except KeyError as exc:
            return SendResult(ok=False, held=True, error=f"outside the window: {exc.args[0]}")
        return await self._post_all(address, outbox.id, [payload])

    async def _template_values(self, outbox: OutboxMessage) -> dict[str, Any]:
        _, order = await self.store.load(outbox.conversation_id)
        values: dict[str, Any] = {"order_id": outbox.conversation_id}
        if order is not None:
            locale = buyer_locale(outbox.language, order.buyer.country)  # as the dialogs write amounts
            values |= {"buyer_name": order.buyer.name, "order_id": order.order_id,
                       "total": money(order.total_amount, order.currency, locale)}  # fmt: skip
        return values | {k: v for k, v in outbox.context.items() if isinstance(v, str | int | float)}

    # -- the HTTP calls -----------------------------------------------------
    async def _post_all(self, address: str, message_id: str, payloads: list[dict[str, Any]]) -> SendResult:
        done, wamid = self._progress.get(message_id, (0, None)) if message_id else (0, None)
        result = SendResult(ok=True, channel_message_id=wamid)
        for index in range(done, len(payloads)):
            result = await self._post(address, message_id, payloads[index])
            if not result.ok:
                return result
            if message_id:
                self._remember(message_id, index + 1, result.channel_message_id)
        return result

    async def _post(self, address: str, message_id: str, payload: dict[str, Any]) -> SendResult:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual",
                "to": address.removeprefix("+"), **payload}  # fmt: skip
        if message_id:
            body["biz_opaque_callback_data"] = message_id[:512]
        try:
            response = await self.client.post(self.url, json=body)
        except httpx.HTTPError as exc:
            return SendResult(ok=False, error=f"WhatsApp unreachable: {exc!r}")
        try:
            data: Any = response.json()
        except ValueError:
            data = None
        result = classify(response.status_code, data, response.headers.get("retry-after"))
        if result.permanent and result.extra.get("code") == 190:
            log.error("WhatsApp rejected the access token: %s", result.error)
        return result

    def _remember(self, message_id: str, done: int, wamid: str | None) -> None:
        self._progress[message_id] = (done, wamid)
        self._progress.move_to_end(message_id)
        while len(self._progress) > REMEMBERED:
            self._progress.popitem(last=False)


def _human(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours:g}-hour" if hours >= 1 else f"{window.total_seconds():g}-second"
