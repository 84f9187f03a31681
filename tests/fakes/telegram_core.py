"""State and Bot API method implementations of the fake Telegram server (sync, guarded by one lock)."""

from __future__ import annotations

import collections
import copy
import itertools
import secrets
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
    check_commands,
    check_markup,
    check_secret,
    check_text,
    parse_json_field,
    update_type,
    visible_text,
)

Params = dict[str, Any]
Files = dict[str, UploadedFile]
CONTENT_KEYS = ("text", "entities", "caption", "caption_entities", "photo", "video", "document")
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
WEBHOOK_CONFLICT = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
POLL_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
TRUE_METHODS = (
    "sendChatAction setMyDescription setMyShortDescription setMyName setChatMenuButton logOut close "
    "setMyDefaultAdministratorRights pinChatMessage unpinChatMessage setMessageReaction"
).split()


@dataclass(eq=False)
class Pending:
    update: dict[str, Any]
    seq: int
    forced: bool = False  # redelivered: ignores the current offset until delivered once
    delivered: bool = False

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


class TelegramCore:
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
        self._handlers: dict[str, Callable[[Params, Files], Any]] = {
            "getme": lambda p, f: {
                **self.bot_user,
                "can_join_groups": True,
                "can_read_all_group_messages": True,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            },
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._webhook_info,
            "sendmessage": self._send_message,
            "sendphoto": lambda p, f: self._send_media("photo", p, f),
            "sendvideo": lambda p, f: self._send_media("video", p, f),
            "senddocument": lambda p, f: self._send_media("document", p, f),
            "getfile": self._get_file,
            "forwardmessage": lambda p, f: self._forward(p, copy_only=False),
            "copymessage": lambda p, f: self._forward(p, copy_only=True),
            "editmessagetext": lambda p, f: self._edit(p, "editMessageText"),
            "editmessagecaption": lambda p, f: self._edit(p, "editMessageCaption"),
            "editmessagereplymarkup": lambda p, f: self._edit(p, "editMessageReplyMarkup"),
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback,
            "createforumtopic": self._create_topic,
            "editforumtopic": lambda p, f: self._topic_op(p, "edit"),
            "closeforumtopic": lambda p, f: self._topic_op(p, "close"),
            "reopenforumtopic": lambda p, f: self._topic_op(p, "reopen"),
            "deleteforumtopic": lambda p, f: self._topic_op(p, "delete"),
            "setmycommands": self._set_commands,
            "getmycommands": lambda p, f: self.commands.get(self._scope_key(p), []),
            "deletemycommands": lambda p, f: self.commands.pop(self._scope_key(p), None) is None or True,
            "getchat": self._get_chat,
            **{m.lower(): (lambda p, f: True) for m in TRUE_METHODS},
        }

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

    # ----------------------------------------------------------------- sending
    def _send(
        self,
        method: str,
        p: Params,
        content: dict[str, Any],
        *,
        text: str | None,
        media_type: str | None = None,
        file_id: str | None = None,
    ) -> dict[str, Any]:
        chat_id, chat = self._target(p)
        tid = self._thread_of(chat_id, p)
        markup = check_markup(parse_json_field("reply_markup", p.get("reply_markup")))
        reply = parse_json_field("reply_parameters", p.get("reply_parameters")) or {}
        if not reply and p.get("reply_to_message_id"):
            reply = {"message_id": p["reply_to_message_id"]}
        replied = None
        if reply.get("message_id"):
            replied = self._messages.get((int(reply.get("chat_id", chat_id)), int(reply["message_id"])))
            if replied is None and not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
            if replied is not None and tid is None and chat_id < 0:
                tid = replied.get("message_thread_id")
        self.limiter.check(chat_id)
        msg: dict[str, Any] = {
            "message_id": self._next_mid(chat_id),
            "from": dict(self.bot_user),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if tid is not None:
            msg.update(message_thread_id=tid, is_topic_message=True)
        if replied is not None:
            msg["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        if markup and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        key = (chat_id, msg["message_id"])
        self._messages[key] = msg
        self._bot_messages.add(key)
        self.sent.append(
            SentMessage(
                seq=next(self._ids),
                method=method,
                chat_id=chat_id,
                message_id=msg["message_id"],
                text=text,
                reply_markup=markup,
                message_thread_id=tid,
                time=time.time(),
                monotonic=time.monotonic(),
                parse_mode=_str(p, "parse_mode"),
                media_type=media_type,
                file_id=file_id,
                params=dict(p),
                message=copy.deepcopy(msg),
            )
        )
        self._changed()
        return msg

    def _send_message(self, p: Params, f: Files) -> dict[str, Any]:
        pm = _str(p, "parse_mode")
        shown = visible_text(check_text(p.get("text"), pm), pm)
        content: dict[str, Any] = {"text": shown}
        if p.get("entities"):
            content["entities"] = parse_json_field("entities", p["entities"])
        return self._send("sendMessage", p, content, text=shown)

    def register_file(
        self, kind: str, content: bytes = b"", *, file_id: str | None = None, file_name: str | None = None
    ) -> FileInfo:
        """Make a file id known to the fake (getFile / download will work for it)."""
        with self._lock:
            if file_id in self._files:
                return self._files[file_id]
            n = next(self._ids)
            ext = {"photo": ".jpg", "video": ".mp4"}.get(kind, "")
            fid = file_id or f"{kind.upper()}-{n}-{secrets.token_hex(6)}"
            info = FileInfo(fid, f"U{n}", kind, f"{kind}s/file_{n}{ext}", content or f"fake-{fid}".encode(), file_name)
            self._files[fid] = info
            return info

    def media_object(self, info: FileInfo) -> Any:
        base = {"file_id": info.file_id, "file_unique_id": info.file_unique_id, "file_size": len(info.content)}
        if info.kind == "photo":
            return [{**base, "width": 1280, "height": 960}]
        if info.kind == "video":
            return {**base, "width": 1280, "height": 720, "duration": 5}
        return {**base, **({"file_name": info.file_name} if info.file_name else {})}

    def _resolve_file(self, kind: str, p: Params, f: Files) -> FileInfo:
        value = p.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = f.get(value[len("attach://") :])
            if value is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
        value = f.get(kind, value)
        if isinstance(value, UploadedFile):
            return self.register_file(kind, value.content, file_name=value.filename)
        if not value:
            raise bad_request(f"there is no {kind} in the request")
        if str(value).startswith(("http://", "https://")):
            return self.register_file(kind, b"", file_name=str(value).rsplit("/", 1)[-1])
        return self._files.get(str(value)) or self.register_file(kind, file_id=str(value))

    def _send_media(self, kind: str, p: Params, f: Files) -> dict[str, Any]:
        pm = _str(p, "parse_mode")
        caption = visible_text(check_text(p.get("caption"), pm, caption=True), pm)
        info = self._resolve_file(kind, p, f)
        content: dict[str, Any] = {kind: self.media_object(info)}
        if caption:
            content["caption"] = caption
        method = "send" + kind.capitalize()
        return self._send(method, p, content, text=caption or None, media_type=kind, file_id=info.file_id)

    def _get_file(self, p: Params, f: Files) -> dict[str, Any]:
        info = self._files.get(str(p.get("file_id", "")))
        if info is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": info.file_id,
            "file_unique_id": info.file_unique_id,
            "file_size": len(info.content),
            "file_path": info.file_path,
        }

    def file_content(self, file_path: str) -> bytes | None:
        with self._lock:
            return next((i.content for i in self._files.values() if i.file_path == file_path), None)

    def _forward(self, p: Params, *, copy_only: bool) -> dict[str, Any]:
        src_chat, mid = _int(p, "from_chat_id"), _int(p, "message_id")
        src = self._messages.get((src_chat or 0, mid or 0))
        if src is None:
            raise bad_request(f"message to {'copy' if copy_only else 'forward'} not found")
        content = {k: copy.deepcopy(src[k]) for k in CONTENT_KEYS if k in src}
        if copy_only and "caption" in p:
            pm = _str(p, "parse_mode")
            content["caption"] = visible_text(check_text(p.get("caption"), pm, caption=True), pm)
        if not copy_only:
            content["forward_origin"] = {"type": "user", "sender_user": src.get("from"), "date": src["date"]}
            p = {k: v for k, v in p.items() if k != "reply_markup"}
        media = next((k for k in ("photo", "video", "document") if k in content), None)
        msg = self._send(
            "copyMessage" if copy_only else "forwardMessage",
            p,
            content,
            text=content.get("text") or content.get("caption"),
            media_type=media,
        )
        return {"message_id": msg["message_id"]} if copy_only else msg

    # ----------------------------------------------------------------- editing
    def _edit(self, p: Params, method: str) -> dict[str, Any]:
        if p.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id, mid = _int(p, "chat_id"), _int(p, "message_id")
        key = (chat_id or 0, mid or 0)
        old = self._messages.get(key)
        if old is None:
            raise bad_request("message to edit not found")
        if key not in self._bot_messages:
            raise bad_request("message can't be edited")
        new = copy.deepcopy(old)
        pm = _str(p, "parse_mode")
        if method == "editMessageText":
            if "text" not in old:
                raise bad_request("there is no text in the message to edit")
            new["text"] = visible_text(check_text(p.get("text"), pm), pm)
        elif method == "editMessageCaption":
            if "text" in old:
                raise bad_request("there is no caption in the message to edit")
            new["caption"] = visible_text(check_text(p.get("caption"), pm, caption=True), pm)
        markup = check_markup(parse_json_field("reply_markup", p.get("reply_markup")))
        new.pop("reply_markup", None)
        if markup and "inline_keyboard" in markup:
            new["reply_markup"] = markup
        if all(new.get(k) == old.get(k) for k in ("text", "caption", "reply_markup")):
            raise bad_request(NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        self._messages[key] = new
        text = new.get("text", new.get("caption"))
        self.edits.append(EditRecord(method, key[0], key[1], text, new.get("reply_markup"), time.time()))
        self._changed()
        return new

    def _delete_message(self, p: Params, f: Files) -> bool:
        key = (_int(p, "chat_id") or 0, _int(p, "message_id") or 0)
        if self._messages.pop(key, None) is None:
            raise bad_request("message to delete not found")
        self.deleted.append(key)
        self._changed()
        return True

    def _answer_callback(self, p: Params, f: Files) -> bool:
        qid = str(p.get("callback_query_id", ""))
        query = self._callbacks.get(qid)
        if query is None or query["answered"]:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = _str(p, "text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers.append(
            CallbackAnswer(
                qid,
                query["chat_id"],
                query["message_id"],
                text,
                _bool(p, "show_alert"),
                _str(p, "url"),
                _int(p, "cache_time", required=False),
                time.time(),
            )
        )
        self._changed()
        return True

    # ----------------------------------------------------------------- forum topics
    def create_topic(self, chat_id: int, name: str, icon_color: int = 7322096) -> int:
        with self._lock:
            if chat_id > 0:
                raise bad_request("the chat is not a forum")
            if not 1 <= len(name) <= 128:
                raise bad_request("TOPIC_NAME_INVALID" if name else "name is empty")
            tid = self._next_mid(chat_id)
            self._topics[(chat_id, tid)] = {"name": name, "icon_color": icon_color, "closed": False, "deleted": False}
            self._messages[(chat_id, tid)] = {
                "message_id": tid,
                "date": int(time.time()),
                "chat": self._chat_obj(chat_id),
                "message_thread_id": tid,
                "forum_topic_created": {"name": name, "icon_color": icon_color},
            }
            return tid

    def _create_topic(self, p: Params, f: Files) -> dict[str, Any]:
        chat_id, _ = self._target(p)
        color = _int(p, "icon_color", required=False) or 7322096
        tid = self.create_topic(chat_id, str(p.get("name", "")), color)
        return {"message_thread_id": tid, "name": self._topics[(chat_id, tid)]["name"], "icon_color": color}

    def _topic_op(self, p: Params, op: str) -> bool:
        chat_id, _ = self._target(p)
        topic = self._topics.get((chat_id, _int(p, "message_thread_id") or 0))
        if topic is None or topic["deleted"]:
            raise bad_request("message thread not found")
        if op == "edit":
            name = _str(p, "name")
            if name is not None and name == topic["name"] and "icon_custom_emoji_id" not in p:
                raise bad_request("TOPIC_NOT_MODIFIED")
            topic["name"] = name or topic["name"]
        elif op in ("close", "reopen"):
            if topic["closed"] == (op == "close"):
                raise bad_request("TOPIC_NOT_MODIFIED")
            topic["closed"] = op == "close"
        else:
            topic["deleted"] = True
        return True

    # ----------------------------------------------------------------- misc methods
    def _scope_key(self, p: Params) -> tuple[str, str]:
        scope = parse_json_field("scope", p.get("scope")) or {"type": "default"}
        return (str(sorted(scope.items())), _str(p, "language_code") or "")

    def _set_commands(self, p: Params, f: Files) -> bool:
        self.commands[self._scope_key(p)] = check_commands(parse_json_field("commands", p.get("commands")))
        return True

    def _get_chat(self, p: Params, f: Files) -> dict[str, Any]:
        chat_id = _int(p, "chat_id")
        chat = self._chat_obj(chat_id or 0)
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels")
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(gifts, False),
        }

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
            self._pending = [
                e for e in self._pending if not (e.update_id < offset and (e.delivered or not e.forced))
            ]
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
            info.update(max_connections=40, ip_address="127.0.0.1")
            if self.allowed_updates:
                info["allowed_updates"] = self.allowed_updates
        if self.webhook_last_error:
            info.update(last_error_date=self.webhook_last_error[0], last_error_message=self.webhook_last_error[1])
        return info

    def webhook_next(self) -> tuple[Pending, str, str | None] | None:
        with self._lock:
            if not self.webhook_url:
                return None
            eligible = self._eligible()
            return (eligible[0], self.webhook_url, self.webhook_secret) if eligible else None

    def webhook_done(self, entry: Pending, url: str, status: int | None, error: str | None) -> bool:
        ok = status is not None and 200 <= status < 300
        with self._lock:
            self.webhook_attempts.append(WebhookAttempt(entry.update_id, url, ok, status, error, time.time()))
            if ok:
                if entry in self._pending:
                    self._pending.remove(entry)
            else:
                self.webhook_last_error = (int(time.time()), error or f"Wrong response from the webhook: {status}")
            self._changed()
        return ok
