"""What a person does to a conversation from the web console: claim, assign,
reply, note, canned reply, offer a discount, tell the refund date, hand back.
Each becomes the same Inbound the Telegram agents' desk submits (so both act
on the same conversations), authored by the logged-in person, and leaves an
audit entry."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.accounts import AuditEntry
from bot.agents_queue import REFUND_BUSINESS_DAYS, HandoffRules, offer_percent, refund_day
from bot.api.console_auth import Principal
from bot.rendering import Renderer
from bot.runtime import Runtime
from bot.storage.console_store import ConsoleStore
from dialogs.calendar import local_date_text
from dialogs.model import Conversation, Inbound, Order, Ownership

MAX_TEXT = 4096
#: action -> (trigger, audit name)
TRIGGERS = {
    "claim": ("agent_claimed", "claimed"),
    "assign": ("agent_claimed", "assigned"),
    "reply": ("agent_replied", "replied"),
    "canned": ("agent_replied", "replied"),
    "refund_date": ("agent_replied", "told_refund_date"),
    "note": ("agent_note", "noted"),
    "offer": ("agent_offered", "offered_discount"),
    "handback": ("agent_handed_back", "handed_back"),
}
CANNED = ("checking", "thanks", "refund_date")


class ActionError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ActionIn:
    text: str = ""
    agent: str = ""
    percent: str = ""
    template: str = ""


class ConsoleActions:
    def __init__(self, runtime: Runtime, store: ConsoleStore, rules: HandoffRules, renderer: Renderer) -> None:
        self.runtime, self.store, self.rules, self.renderer = runtime, store, rules, renderer

    async def act(self, who: Principal, conversation_id: str, action: str, given: ActionIn) -> dict[str, Any]:
        if action not in TRIGGERS:
            raise ActionError(404, f"unknown action {action!r}; use {', '.join(TRIGGERS)}")
        conversation, order = await self.runtime.store.load(conversation_id)
        if conversation is None or order is None:
            raise ActionError(404, "unknown conversation")
        await self._allowed(who, conversation, action)
        trigger, audited = TRIGGERS[action]
        payload: dict[str, Any] = {"agent": who.name, "via": "console"}
        details = await self._payload(action, given, conversation, order, payload)
        source = f"console:{action}:{conversation_id}:{secrets.token_hex(8)}"
        await self.runtime.submit(Inbound(conversation_id, trigger, payload, source, self.runtime.clock.now()))
        await self.store.audit(AuditEntry(self.runtime.clock.now(), who.name, audited, conversation_id, details))
        return {"accepted": True, "conversation_id": conversation_id, "trigger": trigger}

    async def _allowed(self, who: Principal, conversation: Conversation, action: str) -> None:
        owner = str(conversation.memory.get("agent") or "")
        if action == "handback" and conversation.ownership is Ownership.BOT:
            raise ActionError(409, "the bot already owns this chat")
        if who.operator or action in ("claim", "note"):
            return
        if conversation.ownership is Ownership.AGENT and owner and owner != who.name:
            raise ActionError(403, f"{owner} has this chat: ask them or an operator")

    async def _payload(
        self, action: str, given: ActionIn, conversation: Conversation, order: Order, payload: dict[str, Any]
    ) -> dict[str, Any]:
        if action in ("reply", "note"):
            text = given.text.strip()[:MAX_TEXT]
            if not text:
                raise ActionError(422, "text is required")
            payload["text"] = text
            return {"text": text[:200]}
        if action == "assign":
            target = await self.store.get_user(given.agent.strip())
            if target is None or target.disabled:
                raise ActionError(422, f"no active user {given.agent!r}")
            payload["agent"] = target.name
            return {"to": target.name}
        if action == "offer":
            try:
                percent = offer_percent(self.rules, Decimal(given.percent.strip().rstrip("%").replace(",", ".")))
            except InvalidOperation:
                percent = None
            if percent is None:
                raise ActionError(422, f"offer between {self.rules.min_offer}% and {self.rules.max_offer}%")
            payload["percent"] = percent
            return {"percent": percent}
        if action in ("canned", "refund_date"):
            name = "refund_date" if action == "refund_date" else given.template
            if name not in CANNED:
                raise ActionError(422, f"canned replies: {', '.join(CANNED)}")
            payload["text"] = self.canned_text(name, conversation, order)
            return {"template": name}
        return {}

    def canned_text(self, name: str, conversation: Conversation, order: Order) -> str:
        """A canned reply in the buyer's language, from `templates/<locale>/canned/`."""
        language = conversation.language
        day = refund_day(order, self.runtime.clock.now())
        context = {
            "buyer_name": order.buyer.name,
            "order_id": order.order_id,
            "business_days": REFUND_BUSINESS_DAYS,
            "refund_date": local_date_text(day, language),
        }
        return self.renderer.text(f"canned/{name}", language, context, conversation.channel or "")
