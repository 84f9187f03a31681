"""Fake Telegram Bot API for tests: real HTTP on 127.0.0.1 in a daemon thread, plus a buyer-side driving API.

Example fixture (conftest.py)::

    @pytest.fixture
    def fake_tg():
        with FakeTelegram(token="123:ABC", rate_limits=False) as fake:
            yield fake  # Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.fakes.telegram_methods import TelegramCore
from tests.fakes.telegram_models import CallbackAnswer, SentMessage
from tests.fakes.telegram_server import FakeTelegramServer
from tests.fakes.telegram_state import Pending

__all__ = ["CallbackAnswer", "FakeTelegram", "SentMessage"]


class FakeTelegram(TelegramCore):
    """Thread-safe fake Bot API. Constructor kwargs: see TelegramState (rate limits, webhook retry timing)."""

    def _setup(self) -> None:
        super()._setup()
        self.base_url = ""
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: FakeTelegramServer | None = None
        self._query_ids = itertools.count(4_000_000_000_000_001)

    # ----------------------------------------------------------------- lifecycle
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving in a daemon thread; returns the base URL, e.g. http://127.0.0.1:PORT."""
        if self._thread is not None:
            raise RuntimeError("FakeTelegram already started")
        ready = threading.Event()
        errors: list[BaseException] = []
        loop = asyncio.new_event_loop()
        server = FakeTelegramServer(self, host, port)

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.start())
            except BaseException as e:
                errors.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

        self._loop, self._server = loop, server
        self._thread = threading.Thread(target=run, name="fake-telegram", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            self._thread = None
            raise errors[0]
        self.base_url = f"http://{host}:{server.port}"
        return self.base_url

    def stop(self) -> None:
        if self._thread is None or self._loop is None or self._server is None:
            return
        asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> FakeTelegram:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeTelegram:
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    # ----------------------------------------------------------------- buyer side
    def _push(self, kind: str, payload: dict[str, Any]) -> int:
        with self._lock:
            uid = next(self._update_ids)
            update = {"update_id": uid, kind: payload}
            self._updates[uid] = update
            self._pending.append(Pending(copy.deepcopy(update), next(self._ids)))
            self._changed()
            return uid

    def _user_obj(self, user_id: int, first_name: str, language_code: str | None, username: str | None) -> dict:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    def _user_message(
        self,
        chat_id: int,
        content: dict[str, Any],
        *,
        user_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Ann",
        username: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        with self._lock:
            uid = user_id if user_id is not None else (chat_id if chat_id > 0 else 1_000_001)
            user = self._user_obj(uid, first_name, language_code, username)
            if chat_id > 0:
                chat = {"id": chat_id, "type": "private", "first_name": first_name}
                chat.update({"username": username} if username else {})
            else:
                chat = self._chats.get(chat_id) or {
                    "id": chat_id,
                    "type": "supergroup",
                    "title": f"Group {chat_id}",
                    "is_forum": True,
                }
            self._chats[chat_id] = chat
            msg: dict[str, Any] = {
                "message_id": 0,
                "from": user,
                "chat": dict(chat),
                "date": int(time.time()),
            }
            msg.update(content)
            if message_thread_id is not None and chat_id < 0:
                if (chat_id, message_thread_id) not in self._topics:
                    self._msg_ids[chat_id] = max(self._msg_ids[chat_id], message_thread_id)
                    self._topics[(chat_id, message_thread_id)] = {
                        "name": f"Topic {message_thread_id}",
                        "icon_color": 7322096,
                        "closed": False,
                        "deleted": False,
                    }
                msg.update(message_thread_id=message_thread_id, is_topic_message=True)
            if reply_to_message_id is not None:
                replied = self._messages.get((chat_id, reply_to_message_id))
                if replied is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat_id} to reply to")
                msg["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
            msg["message_id"] = self._next_mid(chat_id)
            self._messages[(chat_id, msg["message_id"])] = msg
            return self._push("message", msg)

    def user_sends(self, chat_id: int, text: str, **kwargs: Any) -> int:
        """Buyer/agent message -> update_id. kwargs: user_id, language_code, first_name, username,
        message_thread_id, reply_to_message_id. Negative chat ids are forum supergroups."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}
            ]
        return self._user_message(chat_id, content, **kwargs)

    def _user_media(self, kind: str, chat_id: int, file_id: str | None, caption: str | None, **kw: Any) -> int:
        content_bytes = kw.pop("content", b"")
        info = self.register_file(kind, content_bytes, file_id=file_id, file_name=kw.pop("file_name", None))
        content: dict[str, Any] = {kind: self.media_object(info)}
        if caption:
            content["caption"] = caption
        return self._user_message(chat_id, content, **kw)

    def user_sends_photo(
        self, chat_id: int, file_id: str | None = None, *, caption: str | None = None, **kw: Any
    ) -> int:
        return self._user_media("photo", chat_id, file_id, caption, **kw)

    def user_sends_video(
        self, chat_id: int, file_id: str | None = None, *, caption: str | None = None, **kw: Any
    ) -> int:
        return self._user_media("video", chat_id, file_id, caption, **kw)

    def user_sends_document(
        self, chat_id: int, file_id: str | None = None, *, caption: str | None = None, **kw: Any
    ) -> int:
        return self._user_media("document", chat_id, file_id, caption, **kw)

    def user_edits(self, chat_id: int, message_id: int, text: str) -> int:
        """The user edits their earlier text message -> edited_message update_id."""
        with self._lock:
            msg = copy.deepcopy(self._messages[(chat_id, message_id)])
            msg.update(text=text, edit_date=int(time.time()))
            self._messages[(chat_id, message_id)] = msg
            return self._push("edited_message", msg)

    def user_presses(
        self,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        user_id: int | None = None,
        first_name: str = "Ann",
        language_code: str | None = "en",
        force: bool = False,
    ) -> str:
        """Press an inline button -> callback_query_id; the button must exist unless force=True."""
        with self._lock:
            msg = self._messages.get((chat_id, message_id))
            if not force:
                rows = (msg or {}).get("reply_markup", {}).get("inline_keyboard", [])
                data = [b.get("callback_data") for row in rows for b in row]
                if callback_data not in data:
                    raise ValueError(f"message {message_id} in chat {chat_id} has no button {callback_data!r}: {data}")
            qid = str(next(self._query_ids))
            uid = user_id if user_id is not None else (chat_id if chat_id > 0 else 1_000_001)
            query: dict[str, Any] = {
                "id": qid,
                "from": self._user_obj(uid, first_name, language_code, None),
                "chat_instance": str(abs(chat_id) * 7919 + 17),
                "data": callback_data,
            }
            if msg is not None:
                query["message"] = copy.deepcopy(msg)
            self._callbacks[qid] = {"answered": False, "chat_id": chat_id, "message_id": message_id}
            self._push("callback_query", query)
            return qid

    def redeliver(self, update_id: int) -> None:
        """Deliver an already seen update again (same update_id), as Telegram does after a lost ack."""
        with self._lock:
            update = copy.deepcopy(self._updates[update_id])
            self._queue_again(update)

    # ----------------------------------------------------------------- fault injection
    def fail_next(
        self,
        method: str,
        status: int = 500,
        times: int = 1,
        *,
        description: str | None = None,
        retry_after: int = 1,
    ) -> None:
        """Next `times` calls of `method` ("*" = any) fail with `status` (500, 502, 429, 403, ...)."""
        with self._lock:
            self._failures.append(
                {
                    "method": method.lower(),
                    "status": status,
                    "times": times,
                    "description": description,
                    "retry_after": retry_after,
                }
            )

    def block_chat(self, chat_id: int, *, notify: bool = False) -> None:
        """Sends to chat_id now get 403 'Forbidden: bot was blocked by the user'."""
        self._set_blocked(chat_id, True, notify)

    def unblock_chat(self, chat_id: int, *, notify: bool = False) -> None:
        self._set_blocked(chat_id, False, notify)

    def _set_blocked(self, chat_id: int, blocked: bool, notify: bool) -> None:
        with self._lock:
            (self._blocked.add if blocked else self._blocked.discard)(chat_id)
            if notify and chat_id > 0:
                statuses = ("member", "kicked") if blocked else ("kicked", "member")
                self._push(
                    "my_chat_member",
                    {
                        "chat": self._chat_obj(chat_id),
                        "from": self._user_obj(chat_id, "Ann", None, None),
                        "date": int(time.time()),
                        "old_chat_member": {"user": self.bot_user, "status": statuses[0], "until_date": 0},
                        "new_chat_member": {"user": self.bot_user, "status": statuses[1], "until_date": 0},
                    },
                )

    def add_latency(self, seconds: float, method: str | None = None) -> None:
        """Delay every response (or only `method`) by `seconds`; 0 removes it."""
        with self._lock:
            self._latency[(method or "*").lower()] = seconds

    def set_rate_limits(self, enabled: bool) -> None:
        with self._lock:
            self.limiter.enabled = enabled

    # ----------------------------------------------------------------- records and waits
    def sent_messages(self) -> list[SentMessage]:
        with self._lock:
            return list(self.sent)

    def messages_to(self, chat_id: int, thread_id: int | None = None) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.sent if m.chat_id == chat_id and thread_id in (None, m.message_thread_id)]

    def current_message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The message as it is now (after edits); None when unknown or deleted."""
        with self._lock:
            return copy.deepcopy(self._messages.get((chat_id, message_id)))

    def topic(self, chat_id: int, thread_id: int) -> dict[str, Any] | None:
        with self._lock:
            return dict(self._topics.get((chat_id, thread_id)) or {}) or None

    def answer_for(self, callback_query_id: str) -> CallbackAnswer | None:
        with self._lock:
            return next((a for a in self.callback_answers if a.callback_query_id == callback_query_id), None)

    def pending_updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(e.update) for e in self._pending]

    def _unread(self, chat_id: int, thread_id: int | None) -> list[SentMessage]:
        return [m for m in self.messages_to(chat_id, thread_id) if m.seq not in self._read]

    def unread(self, chat_id: int, thread_id: int | None = None, *, mark_read: bool = True) -> list[SentMessage]:
        with self._lock:
            out = self._unread(chat_id, thread_id)
            if mark_read:
                self._read.update(m.seq for m in out)
            return out

    def _take_unread(self, chat_id: int, n: int, thread_id: int | None) -> list[SentMessage] | None:
        with self._lock:
            out = self._unread(chat_id, thread_id)
            if len(out) < n:
                return None
            self._read.update(m.seq for m in out[:n])
            return out[:n]

    def _timeout_error(self, chat_id: int, n: int, timeout: float) -> TimeoutError:
        got = [(m.method, m.text) for m in self.messages_to(chat_id)]
        return TimeoutError(f"expected {n} unread message(s) to chat {chat_id} within {timeout}s; all sent: {got}")

    def wait_for_messages(
        self, chat_id: int, n: int = 1, timeout: float = 5.0, *, thread_id: int | None = None
    ) -> list[SentMessage]:
        """Block until `n` unread messages to the chat exist; return them (oldest first), marked read."""
        found = self.wait_for(lambda: self._take_unread(chat_id, n, thread_id), timeout, what="")
        if found is None:
            raise self._timeout_error(chat_id, n, timeout)
        return found

    async def await_messages(
        self, chat_id: int, n: int = 1, timeout: float = 5.0, *, thread_id: int | None = None
    ) -> list[SentMessage]:
        found = await self.await_for(lambda: self._take_unread(chat_id, n, thread_id), timeout, what="")
        if found is None:
            raise self._timeout_error(chat_id, n, timeout)
        return found

    def next_message(self, chat_id: int, timeout: float = 5.0, *, thread_id: int | None = None) -> SentMessage:
        return self.wait_for_messages(chat_id, 1, timeout, thread_id=thread_id)[0]

    async def anext_message(self, chat_id: int, timeout: float = 5.0, *, thread_id: int | None = None) -> SentMessage:
        return (await self.await_messages(chat_id, 1, timeout, thread_id=thread_id))[0]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, *, what: str = "condition") -> Any:
        """Block until predicate() is truthy (re-checked on every fake state change); returns its value.
        Raises TimeoutError when `what` is non-empty, else returns the last (falsy) value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (value := predicate()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if what:
                        raise TimeoutError(f"{what} not met within {timeout}s")
                    return value
                self._cond.wait(min(remaining, 0.1))
            return value

    async def await_for(self, predicate: Callable[[], Any], timeout: float = 5.0, *, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if time.monotonic() >= deadline:
                if what:
                    raise TimeoutError(f"{what} not met within {timeout}s")
                return value
            await asyncio.sleep(0.01)
        return value

    def wait_confirmed(self, timeout: float = 5.0) -> None:
        """Block until the bot confirmed (getUpdates offset) or webhook-acked every update."""
        self.wait_for(lambda: not self._pending, timeout, what="all updates confirmed")

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "count_429": self.count_429,
                "requests_by_method": dict(self.requests_by_method),
                "sent": len(self.sent),
                "pending_updates": len(self._pending),
                "webhook_attempts": len(self.webhook_attempts),
            }

    def clear_records(self) -> None:
        with self._lock:
            for records in (
                self.sent,
                self.edits,
                self.deleted,
                self.callback_answers,
                self.webhook_attempts,
            ):
                records.clear()
            self.calls.clear()
            self.requests_by_method.clear()
            self.count_429 = 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Standalone fake Telegram Bot API (driving API under /_fake/)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123:ABC")
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    fake = FakeTelegram(args.token, rate_limits=not args.no_rate_limits)
    if args.latency:
        fake.add_latency(args.latency)
    print(fake.start(args.host, args.port), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
