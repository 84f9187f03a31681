"""The agents' door: a Telegram forum supergroup where every buyer handed to a
person gets one topic, opened with a card (order, reason, last messages,
evidence, deadlines). Buyer messages that arrive while a person owns the chat
are posted into the topic; agents answer and command there (see
`agents_commands`). A periodic check reminds the group of overdue answers.

`AgentDesk(settings, runtime, policy, bot)` shares the Telegram door's `Bot`;
the door routes group updates to `on_group_update(update_id, message)`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, FSInputFile, InputFile, Message

from bot.agents_queue import HandoffRules, QueueItem, build_queue, card_context, queue_item, topic_name
from bot.channels.agents_commands import AgentCommands
from bot.channels.agents_topics import Pacer, TopicMap
from bot.config import Settings
from bot.media import MediaFiles
from bot.rendering import Renderer, split_text
from bot.runtime import Runtime
from dialogs.model import Commit, Ownership
from dialogs.policy import Policy

log = logging.getLogger(__name__)
MAX_TEXT = 4096
Job = Callable[[], Awaitable[None]]


def thread_gone(exc: TelegramBadRequest) -> bool:
    return "thread not found" in exc.message.lower() or "topic_deleted" in exc.message.lower()


class AgentDesk:
    def __init__(self, settings: Settings, runtime: Runtime, policy: Policy, bot: Bot) -> None:
        self.settings, self.runtime, self.bot = settings, runtime, bot
        self.store = runtime.store
        self.chat_id = settings.agent_chat_id or 0
        self.agents = settings.agent_id_set
        self.rules = HandoffRules.from_policy(policy)
        self.renderer = Renderer(settings.templates)
        self.files = MediaFiles(settings.media_root)
        self.topics = TopicMap(self.store, self.chat_id)
        self.pacer = Pacer.from_policy(policy)
        self.commands = AgentCommands(self)
        self.router = None
        self._jobs: asyncio.Queue[Job] = asyncio.Queue()
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle ------------------------------------------------------------
    async def start(self) -> None:
        if not self.chat_id:
            log.warning("BUYERBOT_AGENT_CHAT_ID is not set: the agents' Telegram desk is off")
            return
        self.runtime.on_commit.append(self.on_commit)
        self._tasks = [
            asyncio.create_task(self._work(), name="agents-desk"),
            asyncio.create_task(self._check_loop(), name="agents-sla"),
        ]

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.runtime.on_commit.remove(self.on_commit)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drained(self) -> None:
        """Every queued topic post done (tests)."""
        await self._jobs.join()

    def later(self, job: Job) -> None:
        """Run `job` on the desk's own task: intake and workers never wait on the group's pace."""
        self._jobs.put_nowait(job)

    async def _work(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await job()
            except Exception:
                log.exception("agents' desk job failed")
            finally:
                self._jobs.task_done()

    # -- commits ----------------------------------------------------------------
    async def on_commit(self, change: Commit) -> None:
        """A runtime listener: hand-offs open cards, buyer words go to the topic."""
        handoff = any(task.get("kind") == "handoff" for task in change.tasks)
        if handoff or change.conversation.ownership is not Ownership.BOT:
            self.later(lambda: self._after_commit(change, handoff))

    async def _after_commit(self, change: Commit, handoff: bool) -> None:
        conversation = change.conversation
        if handoff:
            await self.open_card(conversation.id)
            return
        if change.inbound_source_id.startswith("console:"):
            for message in change.outbox:
                if message.template == "common/agent_message":
                    agent = conversation.memory.get("agent", "agent")
                    await self.post(conversation.id, self.text("ack", kind="console_reply", agent=agent,
                                                               text=message.context.get("text", "")))  # fmt: skip
        for entry in change.transcript:
            if entry.author == "buyer":
                await self.post(conversation.id, self.text("ack", kind="buyer", text=entry.text))
                for item in entry.media:
                    await self.post_file(conversation.id, str(item.get("kind")), str(item.get("file_id")))

    # -- topics and cards ---------------------------------------------------------
    def _lock(self, conversation_id: str) -> asyncio.Lock:
        return self._locks.setdefault(conversation_id, asyncio.Lock())

    async def open_card(self, conversation_id: str, *, again: bool = False) -> int | None:
        """The conversation's topic (created once, reused) with this hand-off's card."""
        async with self._lock(conversation_id):
            item = await queue_item(self.store, self.rules, conversation_id, self.now())
            return await self._open_card(item, again=again) if item else None

    async def _open_card(self, item: QueueItem, *, again: bool) -> int | None:
        breach = item.handed_off_at.isoformat()
        conversation_id = item.conversation.id
        thread = await self.topics.topic_of(conversation_id)
        if thread is not None and not again and await self.topics.done("card", conversation_id, breach):
            return thread
        for _ in range(2):
            if thread is None:
                thread = await self._create_topic(item)
            try:
                await self._send_card(thread, item)
                await self.topics.mark_done("card", conversation_id, breach)
                return thread
            except TelegramBadRequest as exc:
                if not thread_gone(exc):
                    raise
                log.info("topic %s of %s was deleted: recreating it", thread, conversation_id)
                thread = None
        return None

    async def _create_topic(self, item: QueueItem) -> int:
        name = topic_name(item.order, item.reason)
        topic = await self.pacer.call(lambda: self.bot.create_forum_topic(self.chat_id, name))
        await self.topics.put(item.conversation.id, topic.message_thread_id)
        return topic.message_thread_id

    async def _send_card(self, thread: int, item: QueueItem) -> None:
        context = card_context(item, self.rules.hours)
        await self.send(self.text("card", **context), thread)
        evidence = context["evidence"]
        for kind, files in (("photo", evidence["photos"]), ("video", evidence["videos"])):
            for file_id in files:
                await self._send_file(thread, kind, file_id)

    async def post_file(self, conversation_id: str, kind: str, file_id: str) -> None:
        """A photo or video the buyer sent, as itself, into the conversation's topic."""
        thread = await self.topics.topic_of(conversation_id)
        if thread is not None and kind in ("photo", "video"):
            await self._send_file(thread, kind, file_id)

    async def _send_file(self, thread: int, kind: str, file_id: str) -> None:
        send = self.bot.send_photo if kind == "photo" else self.bot.send_video
        stored = self.files.by_file_id(file_id)  # uploaded in the web chat: sent from our disk
        content: str | InputFile = FSInputFile(stored[1], filename=stored[0].filename) if stored else file_id
        try:
            await self.pacer.call(lambda: send(self.chat_id, content, message_thread_id=thread))
        except TelegramBadRequest as exc:
            if thread_gone(exc):
                raise
            await self.send(f"({kind} {file_id} cannot be shown here: {exc.message})", thread)

    async def post(self, conversation_id: str, text: str) -> None:
        """Into the conversation's topic; no topic yet (or deleted): a new
        topic whose card already holds the latest messages."""
        async with self._lock(conversation_id):
            thread = await self.topics.topic_of(conversation_id)
            if thread is not None:
                try:
                    await self.send(text, thread)
                    return
                except TelegramBadRequest as exc:
                    if not thread_gone(exc):
                        raise
            item = await queue_item(self.store, self.rules, conversation_id, self.now())
            if item is not None:
                await self._open_card(item, again=True)

    async def send(self, text: str, thread: int | None = None) -> None:
        for part in split_text(text, MAX_TEXT):
            await self.pacer.call(partial(self.bot.send_message, self.chat_id, part, message_thread_id=thread,
                                          parse_mode=None))  # fmt: skip

    def text(self, name: str, **context: Any) -> str:
        return self.renderer.text(f"agents/{name}", "en", context)

    def now(self) -> datetime:
        return self.runtime.clock.now()

    # -- agents' messages ---------------------------------------------------------
    async def on_group_update(self, update_id: int, event: Message | CallbackQuery) -> None:
        """Called by the Telegram door for every non-private update."""
        if isinstance(event, Message):
            await self.commands.handle(update_id, event)

    # -- SLA ----------------------------------------------------------------------
    async def _check_loop(self) -> None:
        interval = max(self.rules.check_every.total_seconds(), 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check()
            except Exception:
                log.exception("agents' queue check failed")

    async def check(self) -> None:
        """Cards for hand-offs that have no topic yet; one reminder per breach."""
        for item in await build_queue(self.store, self.rules, self.now()):
            conversation_id = item.conversation.id
            if await self.topics.topic_of(conversation_id) is None:
                await self.open_card(conversation_id)
            breach = item.handed_off_at.isoformat()
            if item.overdue and not await self.topics.done("reminder", conversation_id, breach):
                await self.send(self.text("reminder", **card_context(item, self.rules.hours)))
                await self.topics.mark_done("reminder", conversation_id, breach)
