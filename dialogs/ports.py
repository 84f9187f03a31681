"""The seams between the pure core and the outside world: storage, clock,
channels. Async Protocols, one concept each; backends live in `bot/`."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from dialogs.model import (
    Commit,
    Conversation,
    Inbound,
    Order,
    OutboxMessage,
    Timer,
    TranscriptEntry,
)

#: what `load_many` returns per conversation: conversation, order, the timer asked for
Loaded = tuple[Conversation | None, Order | None, Timer | None]


#: how the source id of a fired follow-up's Inbound starts
TIMER_SOURCE = "timer:"


class FencedOut(RuntimeError):
    """A fired follow-up's commit was refused: this process no longer holds
    the scheduler lease (another fires follow-ups now). Nothing was written."""


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Inbox(Protocol):
    async def take_inbound(self, mine_too: bool) -> list[Inbound]:
        """Accepted, unhandled inputs whose process is gone (with `mine_too`,
        this process's own too: after a restart), now this process's."""

    async def accept(self, inbound: Inbound) -> bool:
        """Durably record `inbound`; False (and nothing written) when its
        source_id was accepted before, processed or not."""

    async def pending_inbound(self, limit: int = 1000) -> list[Inbound]:
        """Accepted but not yet committed as processed, oldest first."""


class ConversationStore(Protocol):
    async def load(self, conversation_id: str) -> tuple[Conversation | None, Order | None]: ...

    async def commit(self, change: Commit) -> None:
        """Atomically: save conversation and order, add outbox messages (ids
        already present are kept as they are), set and cancel timers, append
        the transcript and tasks, and mark the inbound source_id processed.
        A commit made under the conversation's lock may end the lock's hold on
        other processes (Redis releases it in the same transaction): commit
        last inside a lock."""

    def lock(self, conversation_id: str) -> AbstractAsyncContextManager[None]:
        """Exclusive per-conversation lock (across processes for Redis)."""

    async def load_many(self, wanted: Sequence[tuple[str, str | None]]) -> list[Loaded]:
        """One round trip: for each (conversation id, timer name or None) its
        conversation, order and that pending timer (None when no name given)."""

    async def commit_many(self, changes: Sequence[Commit]) -> None:
        """`commit` for each change (of different conversations), all of them
        in one transaction: all are written or none."""

    def load_locked(self, wanted: Sequence[tuple[str, str | None]]) -> AbstractAsyncContextManager[dict[str, Loaded]]:
        """Takes the locks of those wanted conversations that are free right
        now, without waiting for the others (so holders of several never
        deadlock), and loads them in the same step (one round trip on Redis):
        yields {conversation id: what `load_many` gives} for the ones taken, in
        the order wanted, held until exit."""

    async def conversations(self) -> list[Conversation]: ...


class Outbox(Protocol):
    async def pending_outbox(self, limit: int = 1000) -> list[OutboxMessage]:
        """PENDING and SENDING messages, oldest first."""

    async def take_outbox(self, mine_too: bool) -> list[OutboxMessage]:
        """PENDING and SENDING messages whose process is gone (with
        `mine_too`, this process's own too: after a restart), now claimed by
        this one (`claim_outbox` refuses another live process's message)."""

    async def get_outbox(self, message_id: str) -> OutboxMessage | None: ...

    async def update_outbox(self, message: OutboxMessage) -> None:
        """Overwrite status, attempts, channel_message_id, error, not_before,
        channel and address of an existing message."""

    async def claim_outbox(self, message_id: str) -> OutboxMessage | None:
        """Before a delivery attempt: when the message is PENDING or SENDING,
        mark it SENDING with one more attempt and return it as stored; None
        (and nothing changed) when it is unknown or already SENT, HELD, FAILED."""

    async def finish_outbox(self, message: OutboxMessage, transcript: Sequence[TranscriptEntry] = ()) -> None:
        """`update_outbox(message)` and `append_transcript(transcript)` in one transaction."""

    async def outbox_for(self, conversation_id: str) -> list[OutboxMessage]: ...

    async def find_outbox_by_channel_id(self, channel_message_id: str) -> OutboxMessage | None: ...


class FollowUps(Protocol):
    async def timers(self) -> list[Timer]:
        """Every pending timer, soonest first."""

    async def timers_due(self, until: datetime) -> list[Timer]:
        """Pending timers due by `until`, soonest first."""

    async def count_timers(self) -> int: ...

    async def timers_for(self, conversation_id: str) -> list[Timer]: ...

    async def get_timer(self, conversation_id: str, name: str) -> Timer | None: ...


class Transcript(Protocol):
    async def append_transcript(self, entries: Sequence[TranscriptEntry]) -> None: ...

    async def transcript(self, conversation_id: str, after: int = 0) -> list[tuple[int, TranscriptEntry]]:
        """Entries with their sequence number (> after), oldest first."""


class Bindings(Protocol):
    """Which chat on which channel talks about which orders, and link tokens."""

    async def put_link_token(self, token: str, order_id: str) -> None: ...

    async def order_for_token(self, token: str) -> str | None: ...

    async def token_for_order(self, order_id: str) -> str | None: ...

    async def bind(self, channel: str, address: str, conversation_id: str) -> None:
        """Idempotent; the most recently bound conversation comes first."""

    async def bound(self, channel: str, address: str) -> list[str]: ...


class Tasks(Protocol):
    async def tasks(self) -> list[dict[str, Any]]: ...


class Store(Inbox, ConversationStore, Outbox, FollowUps, Transcript, Bindings, Tasks, Protocol):
    async def ping(self) -> None:
        """Raise if the backend is unreachable (used at start-up)."""

    async def close(self) -> None: ...


@dataclass
class SendResult:
    ok: bool
    channel_message_id: str | None = None
    #: seconds the whole channel must pause (Telegram 429 retry_after)
    retry_after: float | None = None
    #: the buyer can never be reached here (blocked the bot, no such chat)
    permanent: bool = False
    #: the message must wait (WhatsApp window closed with no template)
    held: bool = False
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Capabilities:
    max_buttons: int = 8
    max_button_title: int = 64
    max_text: int = 4096
    buttons: bool = True


@dataclass(frozen=True)
class RenderedMessage:
    text: str
    #: (action or callback id, label, url)
    buttons: tuple[tuple[str, str, str | None], ...] = ()
    #: the outbox message this came from, for idempotent delivery
    message_id: str = ""


class Channel(Protocol):
    name: str
    capabilities: Capabilities

    async def send(self, address: str, message: RenderedMessage) -> SendResult: ...


def utcnow() -> datetime:
    return datetime.now(UTC)
