"""What agents write in the agents' group: plain messages in a buyer's topic
become `agent_replied`; /claim, /done, /note, /offer, /refund_date, /queue and
/help act on the topic's conversation. Only members listed in
BUYERBOT_AGENT_IDS, only in BUYERBOT_AGENT_CHAT_ID; the rest is logged and
ignored. Inbounds are idempotent on the update id (`agents:tg:<update_id>`)."""

from __future__ import annotations

import logging
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiogram.types import Message, User

from bot.agents_queue import build_queue, card_context, handed_off_at, must_apologise, offer_percent, refund_day
from dialogs.calendar import local_date_text, local_time_text
from dialogs.model import Inbound, Ownership

if TYPE_CHECKING:
    from bot.channels.agents import AgentDesk

log = logging.getLogger(__name__)
PERCENT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*%?\s*$")
TOPIC_COMMANDS = ("claim", "done", "note", "offer", "refund_date")


def parse_command(text: str) -> tuple[str, str] | None:
    """("claim", "") for "/claim@my_bot", ("note", "text") for "/note text"."""
    if not text.startswith("/"):
        return None
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name, rest.strip()) if name else None


def parse_percent(text: str) -> Decimal | None:
    match = PERCENT.match(text)
    if not match:
        return None
    try:
        return Decimal(match[1].replace(",", "."))
    except InvalidOperation:
        return None


def agent_name(user: User) -> str:
    return user.full_name or user.username or str(user.id)


class AgentCommands:
    def __init__(self, desk: AgentDesk) -> None:
        self.desk = desk

    async def handle(self, update_id: int, message: Message) -> None:
        user = message.from_user
        if message.chat.id != self.desk.chat_id:
            log.info("update %s from chat %s ignored: not the agents' group", update_id, message.chat.id)
            return
        if user is None or user.is_bot:
            return
        if user.id not in self.desk.agents:
            log.warning("update %s from user %s ignored: not in BUYERBOT_AGENT_IDS", update_id, user.id)
            return
        thread = message.message_thread_id if message.is_topic_message else None
        command = parse_command(message.text or "")
        if command is not None and command[0] not in TOPIC_COMMANDS:
            self._general(command[0], thread)
            return
        conversation_id = await self.desk.topics.conversation_for(thread) if thread else None
        if conversation_id is None:
            return  # chatter in the general topic or in a topic of no buyer
        ctx = _Context(update_id, user, thread or 0, conversation_id)
        if command is not None:
            await self._command(ctx, *command)
        else:
            await self._reply(ctx, message)

    def _general(self, name: str, thread: int | None) -> None:
        if name == "queue":
            self.desk.later(lambda: self._post_queue(thread))
        else:
            rules = self.desk.rules
            text = self.desk.text("help", min_offer=rules.min_offer, max_offer=rules.max_offer)
            self._say(thread, text)

    async def _post_queue(self, thread: int | None) -> None:
        items = await build_queue(self.desk.store, self.desk.rules, self.desk.now())
        entries = [card_context(i, self.desk.rules.hours) for i in items]
        await self.desk.send(self.desk.text("queue", entries=entries), thread)

    async def _command(self, ctx: _Context, name: str, arg: str) -> None:
        agent = agent_name(ctx.user)
        if name == "claim":
            await self._apologise_hint(ctx)
            if await self._submit(ctx, "agent_claimed", {}):
                self._ack(ctx, "claimed", agent=agent)
        elif name == "done":
            if await self._submit(ctx, "agent_handed_back", {}):
                self._ack(ctx, "handed_back", agent=agent)
        elif name == "note":
            if arg and await self._submit(ctx, "agent_note", {"text": arg}):
                self._ack(ctx, "noted")
        elif name == "offer":
            await self._offer(ctx, arg)
        elif name == "refund_date":
            await self._refund_date(ctx)

    async def _offer(self, ctx: _Context, arg: str) -> None:
        rules = self.desk.rules
        value = offer_percent(rules, parse_percent(arg))
        if value is None:
            self._ack(ctx, "offer_out_of_range", min_offer=rules.min_offer, max_offer=rules.max_offer, given=arg)
            return
        if await self._submit(ctx, "agent_offered", {"percent": value}):
            self._ack(ctx, "offered", percent=value, agent=agent_name(ctx.user))

    async def _refund_date(self, ctx: _Context) -> None:
        conversation, order = await self.desk.store.load(ctx.conversation_id)
        if order is None:
            return
        day = refund_day(order, self.desk.now())
        language = conversation.language if conversation else "en"
        self._ack(ctx, "refund_date", date_en=local_date_text(day, "en"),
                  date_local=local_date_text(day, language), country=order.buyer.country)  # fmt: skip

    async def _reply(self, ctx: _Context, message: Message) -> None:
        text = (message.text or message.caption or "").strip()
        has_media = bool(message.photo or message.video or message.document or message.video_note)
        if has_media:
            self._ack(ctx, "media_not_forwarded", caption=bool(text))
        if not text:
            return
        conversation, _ = await self.desk.store.load(ctx.conversation_id)
        if conversation is not None and conversation.ownership is not Ownership.AGENT:
            await self._apologise_hint(ctx)
        await self._submit(ctx, "agent_replied", {"text": text})

    async def _apologise_hint(self, ctx: _Context) -> None:
        conversation, _ = await self.desk.store.load(ctx.conversation_id)
        if conversation is None or conversation.ownership is Ownership.BOT:
            return
        now, hours = self.desk.now(), self.desk.rules.hours
        since = handed_off_at(conversation, now)
        if must_apologise(since, now, hours):
            self._ack(ctx, "apologise", since=local_time_text(since, hours.tz, "en"), store_tz=str(hours.tz))

    async def _submit(self, ctx: _Context, trigger: str, payload: dict[str, Any]) -> bool:
        body = {"agent": agent_name(ctx.user), "agent_id": ctx.user.id, "via": "telegram", **payload}
        inbound = Inbound(ctx.conversation_id, trigger, body, f"agents:tg:{ctx.update_id}", self.desk.now())
        accepted = await self.desk.runtime.submit(inbound)
        if not accepted:
            log.info("agents' update %s seen before: not repeated", ctx.update_id)
        return accepted

    def _ack(self, ctx: _Context, kind: str, **context: Any) -> None:
        self._say(ctx.thread, self.desk.text("ack", kind=kind, **context))

    def _say(self, thread: int | None, text: str) -> None:
        self.desk.later(lambda: self.desk.send(text, thread))


class _Context:
    __slots__ = ("conversation_id", "thread", "update_id", "user")

    def __init__(self, update_id: int, user: User, thread: int, conversation_id: str) -> None:
        self.update_id, self.user, self.thread, self.conversation_id = update_id, user, thread, conversation_id
