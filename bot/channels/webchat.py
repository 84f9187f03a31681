"""The web chat door's sending side. The page reads the transcript, so a send
only has to succeed and wake the page's live stream (`ChatHub`); the sender
writes the rendered text, buttons and author into the transcript."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from dialogs.model import Commit
from dialogs.ports import Capabilities, RenderedMessage, SendResult

#: a stream woken by a send re-reads a little later too: the sender writes the
#: transcript entry right after `send` returns
REREAD_AFTER = (0.05, 0.3)


class ChatHub:
    """Wakes the live streams listening on a key (a session or an order id).
    In-process only: streams also re-read on a short period, so a message
    written by another process shows up within that period."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Event]] = {}

    def notify(self, key: str) -> None:
        for event in self._waiting.get(key, ()):
            event.set()

    def notify_soon(self, key: str) -> None:
        loop = asyncio.get_running_loop()
        self.notify(key)
        for delay in REREAD_AFTER:
            loop.call_later(delay, self.notify, key)

    async def wait(self, keys: Iterable[str], timeout: float) -> None:
        """Until one of `keys` is notified or `timeout` seconds passed."""
        event = asyncio.Event()
        keys = list(keys)
        for key in keys:
            self._waiting.setdefault(key, set()).add(event)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        finally:
            for key in keys:
                waiting = self._waiting.get(key)
                if waiting is not None:
                    waiting.discard(event)
                    if not waiting:
                        del self._waiting[key]

    async def on_commit(self, change: Commit) -> None:
        """A runtime listener: a buyer's words, an order event, a hand-off."""
        self.notify_soon(change.conversation.id)


class WebChatChannel:
    name = "webchat"
    capabilities = Capabilities(max_buttons=8, max_button_title=40, max_text=8000)

    def __init__(self, hub: ChatHub | None = None) -> None:
        self.hub = hub or ChatHub()

    async def send(self, address: str, message: RenderedMessage) -> SendResult:
        self.hub.notify_soon(address)
        return SendResult(ok=True, channel_message_id=message.message_id)
