"""State, update queue and webhook bookkeeping of the fake Telegram server (sync, guarded by one lock)."""

from __future__ import annotations

import collections
import copy
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakes.telegram_models import (
    DEFAULT_EXCLUDED_UPDATES,
    STATUS_TEXT,
    ApiError,
    CallbackAnswer,
    CallRecord,
    EditRecord,
    FileInfo,
    RateLimiter,
    SentMessage,
    UploadedFile,
    WebhookAttempt,
    bad_request,
    check_secret,
    parse_json_field,
    update_type,
)

Params = dict[str, Any]
Files = dict[str, UploadedFile]
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


@dataclass(eq=False)
class Pending:
    update: dict[str, Any]
    seq: int
    forced: bool = False  # redelivered: ignores the current offset until delivered once
    delivered: bool = False
    in_flight: bool = False  # a webhook POST of it is under way

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


@dataclass
class PollTicket:
    gen: int
    limit: int
    timeout: float


def _int(p: Params, name: str, required: bool = True) -> int | None:
    value = p.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} is empty")
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request("chat not found" if name.endswith("chat_id") else f"invalid {name} specified") from None


def _str(p: Params, name: str) -> str | None:
    value = p.get(name)
    return None if value is None or value == "" else str(value)


def _bool(p: Params, name: str) -> bool:
    return p.get(name) in (True, 1, "true", "True", "1")


class TelegramState:
    def __init__(
        self,
        token: str = "123:ABC",
        *,
        bot_username: str = "buyerbot_test_bot",
        bot_name: str = "BuyerBot",
        rate_limits: bool = True,
        per_chat_burst: float = 3,
        per_chat_rate: float = 1.0,
        global_burst: float = 30,
        global_rate: float = 30.0,
        group_per_minute: float = 20,
        strict_chats: bool = False,
        webhook_retry_initial: float = 0.05,
        webhook_retry_max: float = 1.0,
        webhook_timeout: float = 10.0,
        webhook_connections: int = 1,
    ) -> None:
        self.token = token
        self.bot_user = {
            "id": int(token.split(":")[0]) if token.split(":")[0].isdigit() else 123,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.limiter = RateLimiter(
            enabled=rate_limits,
            per_chat_burst=per_chat_burst,
            per_chat_rate=per_chat_rate,
            global_burst=global_burst,
            global_rate=global_rate,
            group_per_minute=group_per_minute,
        )
        self.strict_chats = strict_chats
        self.webhook_retry_initial = webhook_retry_initial
        self.webhook_retry_max = webhook_retry_max
        self.webhook_timeout = webhook_timeout
        #: webhook POSTs at once when setWebhook names no max_connections (Telegram: 40);
        #: 1 keeps a test's updates in order
        self.webhook_connections = webhook_connections
        self.webhook_max_connections = webhook_connections
        #: a load balancer in front of several processes: POSTs go round-robin over these
        self.webhook_balance: list[str] = []
        self._webhook_turn = 0
        self._in_flight = 0
        self._redelivered = False
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._wake: Callable[[], None] | None = None  # set by the server: wakes its async waiters
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._pending: list[Pending] = []
        self._updates: dict[int, dict[str, Any]] = {}
        self._poll_gen = 0
        self.allowed_updates: list[str] | None = None
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_last_error: tuple[int, str] | None = None
        self._msg_ids: dict[int, int] = collections.defaultdict(int)
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._bot_messages: set[tuple[int, int]] = set()
        self._chats: dict[int, dict[str, Any]] = {}
        self._topics: dict[tuple[int, int], dict[str, Any]] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._files: dict[str, FileInfo] = {}
        self._blocked: set[int] = set()
        self._failures: list[dict[str, Any]] = []
        self._latency: dict[str, float] = {}
        self._read: set[int] = set()
        self.sent: list[SentMessage] = []
        self.edits: list[EditRecord] = []
        self.deleted: list[tuple[int, int]] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.webhook_attempts: list[WebhookAttempt] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.calls: collections.deque[CallRecord] = collections.deque(maxlen=10_000)
        self.requests_by_method: collections.Counter[str] = collections.Counter()
        self.count_429 = 0
        self.internal_errors: list[str] = []  # exceptions inside the fake itself (should stay empty)
        self._handlers: dict[str, Callable[[Params, Files], Any]] = {}
        self._setup()

    def _setup(self) -> None:
        """Subclass hook run at the end of __init__ (registers Bot API handlers, extra state)."""

    # ----------------------------------------------------------------- plumbing
    def _changed(self) -> None:
        """Wake sync and async waiters; call with the lock held."""
        self._cond.notify_all()
        if self._wake is not None:
            self._wake()

    def latency_for(self, method: str) -> float:
        with self._lock:
            return self._latency.get(method.lower(), self._latency.get("*", 0.0))

    def call(self, method: str, params: Params, files: Files | None = None) -> Any:
        """Run one Bot API method; returns the result or raises ApiError."""
        key = method.lower()
        with self._lock:
            self.requests_by_method[method] += 1
            try:
                handler = self._handlers.get(key)
                if handler is None:
                    raise ApiError(404, "Not Found")
                self._inject_failure(key)
                result = handler(params, files or {})
            except ApiError as e:
                self.count_429 += e.status == 429
                self.calls.append(CallRecord(method, params, e.status, time.time()))
                raise
            self.calls.append(CallRecord(method, params, 200, time.time()))
            return result

    def _inject_failure(self, key: str) -> None:
        for failure in self._failures:
            if failure["method"] in (key, "*"):
                failure["times"] -= 1
                if failure["times"] <= 0:
                    self._failures.remove(failure)
                status = failure["status"]
                params = {"retry_after": failure["retry_after"]} if status == 429 else None
                desc = failure["description"] or STATUS_TEXT.get(status, "Internal Server Error")
                if status == 429 and not failure["description"]:
                    desc = f"Too Many Requests: retry after {failure['retry_after']}"
                raise ApiError(status, desc, params)

    def _next_mid(self, chat_id: int) -> int:
        self._msg_ids[chat_id] += 1
        return self._msg_ids[chat_id]

    def _chat_obj(self, chat_id: int) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is not None:
            return dict(chat)
        if self.strict_chats:
            raise bad_request("chat not found")
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}", "is_forum": True}
        return {"id": chat_id, "type": "private", "first_name": "User"}

    def _target(self, p: Params) -> tuple[int, dict[str, Any]]:
        chat_id = _int(p, "chat_id")
        assert chat_id is not None
        chat = self._chat_obj(chat_id)
        if chat_id in self._blocked:
            who = "bot was blocked by the user" if chat_id > 0 else "bot was kicked from the supergroup chat"
            raise ApiError(403, f"Forbidden: {who}")
        return chat_id, chat

    def _thread_of(self, chat_id: int, p: Params) -> int | None:
        tid = _int(p, "message_thread_id", required=False)
        if tid is None or chat_id > 0:
            return None
        topic = self._topics.get((chat_id, tid))
        if topic is None or topic["deleted"]:
            raise bad_request("message thread not found")
        return tid

    # ----------------------------------------------------------------- updates
    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = update_type(update)
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in DEFAULT_EXCLUDED_UPDATES

    def _set_allowed(self, p: Params) -> None:
        allowed = parse_json_field("allowed_updates", p.get("allowed_updates"))
        if allowed is not None:
            self.allowed_updates = list(allowed)

    def _get_updates(self, p: Params, f: Files) -> PollTicket:
        if self.webhook_url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = _int(p, "offset", required=False) or 0
        limit = min(100, max(1, _int(p, "limit", required=False) or 100))
        self._set_allowed(p)
        if offset < 0:
            self._pending = self._pending[offset:]
        elif offset > 0:
            self._pending = [e for e in self._pending if not (e.update_id < offset and (e.delivered or not e.forced))]
        self._poll_gen += 1
        self._changed()
        return PollTicket(self._poll_gen, limit, float(_int(p, "timeout", required=False) or 0))

    def _eligible(self) -> list[Pending]:
        self._pending = [e for e in self._pending if self._allowed(e.update)]
        return sorted(self._pending, key=lambda e: (not e.forced, e.seq))

    def poll_take(self, ticket: PollTicket) -> list[dict[str, Any]]:
        """Updates for a waiting getUpdates call; raises 409 when superseded or a webhook got set."""
        with self._lock:
            if self.webhook_url:
                raise ApiError(409, WEBHOOK_CONFLICT)
            if ticket.gen != self._poll_gen:
                raise ApiError(409, POLL_CONFLICT)
            batch = self._eligible()[: ticket.limit]
            for entry in batch:
                entry.delivered = True
            return [copy.deepcopy(e.update) for e in batch]

    def _set_webhook(self, p: Params, f: Files) -> bool:
        url = _str(p, "url") or ""
        if url and not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = _str(p, "secret_token")
        check_secret(secret)
        self._set_allowed(p)
        if _bool(p, "drop_pending_updates"):
            self._pending.clear()
        self.webhook_url, self.webhook_secret = url, secret
        self.webhook_max_connections = _int(p, "max_connections", required=False) or self.webhook_connections
        self.webhook_last_error = None
        self._changed()
        return True

    def _delete_webhook(self, p: Params, f: Files) -> bool:
        return self._set_webhook({"drop_pending_updates": p.get("drop_pending_updates")}, f)

    def _webhook_info(self, p: Params, f: Files) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info.update(max_connections=self.webhook_max_connections, ip_address="127.0.0.1")
            if self.allowed_updates:
                info["allowed_updates"] = self.allowed_updates
        if self.webhook_last_error:
            info.update(last_error_date=self.webhook_last_error[0], last_error_message=self.webhook_last_error[1])
        return info

    def balance_webhook(self, urls: list[str]) -> None:
        """Deliver to `urls` round-robin instead of the registered URL, as a load
        balancer in front of several processes would (the secret stays the registered one)."""
        with self._lock:
            self.webhook_balance = list(urls)
            self._changed()

    def webhook_next(self) -> tuple[Pending, str, str | None] | None:
        """The next update to POST (now in flight), or None: no webhook, nothing
        pending, or max_connections POSTs under way. Redelivered updates go first."""
        with self._lock:
            if not self.webhook_url or self._in_flight >= self.webhook_max_connections:
                return None
            entry = self._webhook_candidate()
            if entry is None:
                return None
            entry.in_flight = True
            self._in_flight += 1
            url = self.webhook_url
            if self.webhook_balance:
                url = self.webhook_balance[self._webhook_turn % len(self.webhook_balance)]
                self._webhook_turn += 1
            return entry, url, self.webhook_secret

    def _webhook_candidate(self) -> Pending | None:
        # the list is in `seq` order and in-flight entries lead it: the scan stays short
        # unless a redelivered (forced) entry waits, which only `redeliver` makes
        if self._redelivered:
            forced = [e for e in self._eligible() if e.forced and not e.in_flight]
            if forced:
                return forced[0]
            self._redelivered = False
        for entry in self._pending:
            if entry.in_flight:
                continue
            if self._allowed(entry.update):
                return entry
            self._eligible()  # drops what allowed_updates excludes
            return self._webhook_candidate()
        return None

    def _queue_again(self, update: dict[str, Any]) -> None:
        """An already seen update pending again (forced past the offset); call with the lock held."""
        self._pending.append(Pending(update, next(self._ids), forced=True))
        self._redelivered = True
        self._changed()

    def webhook_done(self, entry: Pending, url: str, status: int | None, error: str | None) -> bool:
        ok = status is not None and 200 <= status < 300
        with self._lock:
            entry.in_flight = False
            self._in_flight -= 1
            self.webhook_attempts.append(WebhookAttempt(entry.update_id, url, ok, status, error, time.time()))
            if ok:
                if entry in self._pending:
                    self._pending.remove(entry)
            else:
                self.webhook_last_error = (
                    int(time.time()),
                    error or f"Wrong response from the webhook: {status}",
                )
            self._changed()
        return ok
