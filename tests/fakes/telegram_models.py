"""Records, errors, rate limiting and validation helpers for the fake Telegram Bot API server."""

from __future__ import annotations

import html
import json
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "reply_parameters",
        "link_preview_options",
        "media",
        "menu_button",
        "reaction",
    }
)
HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
        "tg-time",
    }
)
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
_MD2_RESERVED = "#+-={}.!"
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


def too_many(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


STATUS_TEXT = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: injected failure",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class UploadedFile:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass
class FileInfo:
    file_id: str
    file_unique_id: str
    kind: str
    file_path: str
    content: bytes
    file_name: str | None = None


@dataclass
class SentMessage:
    """One successful bot -> chat message (sendMessage, sendPhoto, copyMessage, ...)."""

    seq: int
    method: str
    chat_id: int
    message_id: int
    text: str | None  # text, or caption of media
    reply_markup: dict[str, Any] | None
    message_thread_id: int | None
    time: float  # time.time()
    monotonic: float
    parse_mode: str | None = None
    media_type: str | None = None  # photo / video / document
    file_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    message: dict[str, Any] = field(default_factory=dict)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or (self.reply_markup or {}).get("keyboard")
        return [b if isinstance(b, dict) else {"text": b} for row in rows or [] for b in row]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def button_data(self, text_contains: str) -> str:
        """callback_data of the first button whose text contains `text_contains`."""
        for b in self.buttons:
            if text_contains in b.get("text", "") and "callback_data" in b:
                return str(b["callback_data"])
        raise KeyError(f"no button containing {text_contains!r} in {self.buttons}")


@dataclass
class EditRecord:
    method: str
    chat_id: int
    message_id: int
    text: str | None
    reply_markup: dict[str, Any] | None
    time: float


@dataclass
class CallbackAnswer:
    callback_query_id: str
    chat_id: int | None
    message_id: int | None
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    time: float


@dataclass
class WebhookAttempt:
    update_id: int
    url: str
    ok: bool
    status: int | None
    error: str | None
    time: float


@dataclass
class CallRecord:
    method: str
    params: dict[str, Any]
    status: int
    time: float


class TokenBucket:
    def __init__(self, capacity: float, rate: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.stamp = time.monotonic()

    def wait_time(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class RateLimiter:
    """Telegram-like limits: per chat burst/rate, global per bot, and per group per minute."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        per_chat_burst: float = 3,
        per_chat_rate: float = 1.0,
        global_burst: float = 30,
        global_rate: float = 30.0,
        group_per_minute: float = 20,
    ) -> None:
        self.enabled = enabled
        self.per_chat = (per_chat_burst, per_chat_rate)
        self.group = (group_per_minute, group_per_minute / 60.0)
        self.global_bucket = TokenBucket(global_burst, global_rate)
        self.chats: dict[int, TokenBucket] = {}
        self.groups: dict[int, TokenBucket] = {}

    def check(self, chat_id: int) -> None:
        """Consume one message for `chat_id` or raise a 429 ApiError."""
        if not self.enabled:
            return
        buckets = [self.global_bucket, self.chats.setdefault(chat_id, TokenBucket(*self.per_chat))]
        if chat_id < 0:
            buckets.append(self.groups.setdefault(chat_id, TokenBucket(*self.group)))
        now = time.monotonic()
        wait = max(b.wait_time(now) for b in buckets)
        if wait > 0:
            raise too_many(max(1, math.ceil(wait)))
        for b in buckets:
            b.take()


def parse_json_field(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        what = "reply keyboard markup" if name == "reply_markup" else name
        raise bad_request(f"can't parse {what} JSON object") from None


def visible_text(text: str, parse_mode: str | None) -> str:
    """Validate markup like Telegram does (conservatively) and return the visible text."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        stack: list[str] = []
        for m in _TAG_RE.finditer(text):
            closing, name = m.group(1) == "/", m.group(2).lower()
            offset = len(text[: m.start()].encode())
            if name not in HTML_TAGS:
                kind = "end" if closing else "start"
                raise bad_request(f'can\'t parse entities: Unsupported {kind} tag "{name}" at byte offset {offset}')
            if not closing:
                stack.append(name)
            elif not stack or stack[-1] != name:
                expected = f', expected "</{stack[-1]}>"' if stack else ""
                raise bad_request(
                    f'can\'t parse entities: Unmatched end tag at byte offset {offset}{expected}, found "</{name}>"'
                )
            else:
                stack.pop()
        if stack:
            raise bad_request(f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\"")
        return html.unescape(_TAG_RE.sub("", text))
    if mode == "markdownv2":
        i, in_code = 0, False
        while i < len(text):
            c = text[i]
            if c == "\\":
                i += 2
                continue
            if c == "`":
                in_code = not in_code
            elif not in_code and c == "]" and text[i + 1 : i + 2] == "(":
                end = text.find(")", i)
                i = end if end > 0 else i
            elif not in_code and c in _MD2_RESERVED:
                raise bad_request(
                    f"can't parse entities: Character '{c}' is reserved and must be escaped with the preceding '\\'"
                )
            i += 1
        return re.sub(r"\\(.)", r"\1", text)
    return text


def check_text(text: Any, parse_mode: str | None, *, caption: bool = False) -> str:
    if caption:
        if text is None:
            return ""
        if len(visible_text(str(text), parse_mode)) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return str(text)
    if text is None or not str(text).strip():
        raise bad_request("message text is empty")
    shown = visible_text(str(text), parse_mode)
    if not shown.strip():
        raise bad_request("message text is empty")
    if len(shown) > MAX_TEXT:
        raise bad_request("message is too long")
    return str(text)


def check_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode())
                if not 1 <= size <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif len(button) == 1:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
    return markup


def check_secret(secret: str | None) -> None:
    if secret is not None and not _SECRET_RE.match(secret):
        raise bad_request("secret token contains unallowed characters")


def check_commands(commands: Any) -> list[dict[str, Any]]:
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    for c in commands:
        if not isinstance(c, dict) or not _COMMAND_RE.match(str(c.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(c.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return commands


def update_type(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")
