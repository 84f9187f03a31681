"""A fake WhatsApp Cloud (Graph) API on 127.0.0.1: records sends, enforces the
24-hour window, limits and payload rules with the real error shapes, and
builds + signs webhook notifications to post to the bot."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

ERRORS: dict[int, tuple[int, str, str]] = {
    # code: (http status, type, message)
    190: (401, "OAuthException", "Invalid OAuth access token - Cannot parse access token"),
    100: (400, "OAuthException", "Invalid parameter"),
    131009: (400, "OAuthException", "(#131009) Parameter value is not valid"),
    131026: (400, "OAuthException", "(#131026) Message Undeliverable."),
    131047: (400, "OAuthException", "(#131047) Re-engagement message"),
    130429: (400, "OAuthException", "(#130429) Rate limit hit"),
    131056: (400, "OAuthException", "(#131056) (Business Account, Consumer Account) pair rate limit hit"),
    132001: (404, "OAuthException", "(#132001) Template name does not exist in the translation"),
    131000: (500, "OAuthException", "(#131000) Something went wrong"),
}


def error_body(code: int, subcode: int = 2494010, message: str | None = None) -> dict[str, Any]:
    _, kind, text = ERRORS.get(code, (400, "OAuthException", f"(#{code}) Error"))
    return {"error": {"message": message or text, "type": kind, "code": code, "error_subcode": subcode,
                      "fbtrace_id": "A" + secrets.token_hex(10)}}  # fmt: skip


@dataclass
class Fault:
    code: int | None
    http_status: int
    retry_after: float | None = None
    #: only requests of this message type ("text", "interactive", "template") fail
    kind: str | None = None


@dataclass
class Sent:
    to: str
    type: str
    body: dict[str, Any]
    wamid: str
    at: float = field(default_factory=time.time)

    @property
    def text(self) -> str:
        if self.type == "text":
            return str(self.body["text"]["body"])
        if self.type == "interactive":
            return str(self.body["interactive"]["body"]["text"])
        return ""

    @property
    def reply_ids(self) -> list[str]:
        """The ids of reply buttons or list rows, in order."""
        if self.type != "interactive":
            return []
        action = self.body["interactive"]["action"]
        if "buttons" in action:
            return [b["reply"]["id"] for b in action["buttons"]]
        return [r["id"] for s in action["sections"] for r in s["rows"]]


class FakeWhatsApp:
    def __init__(
        self,
        *,
        phone_id: str = "1000001",
        token: str = "wa-token",
        app_secret: str = "wa-app-secret",
        verify_token: str = "wa-verify",
        window: float = 24 * 3600,
        rate: int = 80,
        pair_burst: int = 20,
        pair_period: float = 6.0,
    ) -> None:
        self.phone_id, self.token, self.app_secret, self.verify_token = (
            phone_id,
            token,
            app_secret,
            verify_token,
        )
        self.window, self.rate, self.pair_burst, self.pair_period = window, rate, pair_burst, pair_period
        self.sent: list[Sent] = []
        self.rejected: list[tuple[dict[str, Any], int]] = []
        self.unreachable: set[str] = set()
        #: approved templates as (name, language); empty set = any name is approved
        self.templates: set[tuple[str, str]] = set()
        self.last_inbound: dict[str, float] = {}
        self._faults: deque[Fault] = deque()
        self._sends: deque[float] = deque()
        self._pairs: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self.port = 0

    # -- lifecycle ----------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """BUYERBOT_WHATSAPP_* settings pointing the bot at this fake."""
        return {
            "BUYERBOT_WHATSAPP_PHONE_ID": self.phone_id,
            "BUYERBOT_WHATSAPP_TOKEN": self.token,
            "BUYERBOT_WHATSAPP_APP_SECRET": self.app_secret,
            "BUYERBOT_WHATSAPP_VERIFY_TOKEN": self.verify_token,
            "BUYERBOT_WHATSAPP_API_URL": self.url,
        }

    def start(self) -> FakeWhatsApp:
        threading.Thread(target=self._serve, name="fake-whatsapp", daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError("fake WhatsApp API did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/{version}/{phone_id}/messages", self._messages)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = int(self._runner.addresses[0][1])
        self._ready.set()
        self._loop.run_forever()

    # -- faults and queries -------------------------------------------------
    def fail_next(self, code: int | None = 131000, *, http_status: int | None = None, count: int = 1,
                  retry_after: float | None = None, kind: str | None = None) -> None:  # fmt: skip
        """The next `count` sends (of type `kind`) fail with this Graph error (code None: a bare HTTP error)."""
        status = http_status or ERRORS.get(code or 0, (500, "", ""))[0]
        with self._lock:
            self._faults.extend(Fault(code, status, retry_after, kind) for _ in range(count))

    def messages_to(self, phone: str) -> list[Sent]:
        digits = phone.removeprefix("+")
        with self._lock:
            return [s for s in self.sent if s.to == digits]

    def wait_for(self, phone: str, count: int, timeout: float = 15) -> list[Sent]:
        """At least `count` messages to `phone` (all of them, oldest first)."""
        deadline = time.monotonic() + timeout
        while len(got := self.messages_to(phone)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(got)} of {count} messages to {phone} within {timeout}s: {got}")
            time.sleep(0.05)
        return got

    # -- the Graph API --------------------------------------------------------
    async def _messages(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._error(190)
        if request.match_info["phone_id"] != self.phone_id:
            return self._error(100, message="Unsupported post request. Object does not exist")
        try:
            body = await request.json()
        except ValueError:
            return self._error(100, message="Invalid JSON")
        with self._lock:
            outcome = self._check(body)
            if isinstance(outcome, web.Response):
                self.rejected.append((body, outcome.status))
                return outcome
            sent = Sent(body["to"], body["type"], body, "wamid." + secrets.token_hex(12))
            self.sent.append(sent)
        answer = {"messaging_product": "whatsapp", "contacts": [{"input": sent.to, "wa_id": sent.to}],
                  "messages": [{"id": sent.wamid}]}  # fmt: skip
        return web.json_response(answer)

    def _check(self, body: dict[str, Any]) -> web.Response | None:
        if self._faults and self._faults[0].kind in (None, body.get("type")):
            fault = self._faults.popleft()
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
            data = error_body(fault.code) if fault.code else {"error": {"message": "HTTP error"}}
            return web.json_response(data, status=fault.http_status, headers=headers)
        if body.get("messaging_product") != "whatsapp" or not str(body.get("to", "")).isdigit():
            return self._error(100, message="Invalid parameter: to")
        problem = payload_problem(body)
        if problem:
            return self._error(131009, message=f"(#131009) Parameter value is not valid: {problem}")
        now = time.time()
        while self._sends and self._sends[0] < now - 1:
            self._sends.popleft()
        if len(self._sends) >= self.rate:
            return self._error(130429)
        pair = self._pairs[body["to"]]
        while pair and pair[0] < now - self.pair_period:
            pair.popleft()
        if len(pair) >= self.pair_burst:
            return self._error(131056)
        if body["to"] in self.unreachable:
            return self._error(131026)
        if body["type"] != "template" and now - self.last_inbound.get(body["to"], -1e18) > self.window:
            return self._error(131047, subcode=2494055)
        if body["type"] == "template" and self.templates:
            spec = body["template"]
            if (spec["name"], spec["language"]["code"]) not in self.templates:
                return self._error(132001)
        self._sends.append(now)
        pair.append(now)
        return None

    def _error(self, code: int, subcode: int = 2494010, message: str | None = None) -> web.Response:
        return web.json_response(error_body(code, subcode, message), status=ERRORS.get(code, (400,))[0])

    # -- webhooks to the bot --------------------------------------------------
    def notification(self, value: dict[str, Any]) -> dict[str, Any]:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": self.phone_id},
            **value,
        }
        return {"object": "whatsapp_business_account",
                "entry": [{"id": "WABA-1", "changes": [{"field": "messages", "value": value}]}]}  # fmt: skip

    def message(self, sender: str, kind: str, content: dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
        digits = sender.removeprefix("+")
        raw = {"from": digits, "id": message_id or "wamid.in" + secrets.token_hex(10),
               "timestamp": str(int(time.time())), "type": kind, kind: content}  # fmt: skip
        contact = {"profile": {"name": "Buyer"}, "wa_id": digits}
        return self.notification({"contacts": [contact], "messages": [raw]})

    def text(self, sender: str, body: str, message_id: str | None = None) -> dict[str, Any]:
        return self.message(sender, "text", {"body": body}, message_id)

    def button_reply(
        self, sender: str, reply_id: str, title: str = "", message_id: str | None = None
    ) -> dict[str, Any]:
        content = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title or reply_id[:20]}}
        return self.message(sender, "interactive", content, message_id)

    def list_reply(self, sender: str, reply_id: str, title: str = "", message_id: str | None = None) -> dict[str, Any]:
        content = {"type": "list_reply", "list_reply": {"id": reply_id, "title": title or reply_id[:24]}}
        return self.message(sender, "interactive", content, message_id)

    def media(self, sender: str, kind: str, mime_type: str, caption: str = "", media_id: str | None = None,
              message_id: str | None = None) -> dict[str, Any]:  # fmt: skip
        content = {"id": media_id or secrets.token_hex(8), "mime_type": mime_type, "sha256": "0" * 64}
        if caption:
            content["caption"] = caption
        return self.message(sender, kind, content, message_id)

    def status(self, wamid: str, status: str, recipient: str, error_code: int | None = None) -> dict[str, Any]:
        raw: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(time.time())),
                               "recipient_id": recipient.removeprefix("+")}  # fmt: skip
        if error_code is not None:
            text = ERRORS.get(error_code, (400, "", "Error"))[2]
            raw["errors"] = [{"code": error_code, "title": text, "message": text}]
        return self.notification({"statuses": [raw]})

    def note_inbound(self, payload: dict[str, Any]) -> None:
        """Open the 24-hour window of every sender of a message in this notification."""
        for entry in payload.get("entry", []):
            for change in entry.get("changes", []):
                for message in change["value"].get("messages", []):
                    self.last_inbound[message["from"]] = time.time()

    def sign(self, body: bytes, secret: str | None = None) -> str:
        return "sha256=" + hmac.new((secret or self.app_secret).encode(), body, hashlib.sha256).hexdigest()

    def post(self, bot_url: str, payload: dict[str, Any] | bytes, *, signature: str | None = None,
             unsigned: bool = False) -> httpx.Response:  # fmt: skip
        """POST a notification to the bot's webhook, signed unless told otherwise; opens the
        recipient's 24-hour window for every message it carries."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if not unsigned:
            headers["X-Hub-Signature-256"] = signature or self.sign(body)
        if isinstance(payload, dict):
            self.note_inbound(payload)
        return httpx.post(f"{bot_url}/whatsapp/webhook", content=body, headers=headers, timeout=10)


def payload_problem(body: dict[str, Any]) -> str | None:
    """What the real API would refuse in a message body (limits of text and interactive)."""
    kind = body.get("type")
    if kind == "text":
        text = body.get("text", {}).get("body", "")
        return "text.body over 4096" if not text or len(text) > 4096 else None
    if kind == "template":
        return None if body.get("template", {}).get("name") else "template.name"
    if kind != "interactive":
        return f"unsupported type {kind}"
    interactive = body["interactive"]
    if not 0 < len(interactive["body"]["text"]) <= 1024:
        return "interactive.body.text over 1024"
    action = interactive["action"]
    if interactive["type"] == "button":
        buttons = action["buttons"]
        if not 1 <= len(buttons) <= 3 or any(len(b["reply"]["title"]) > 20 for b in buttons):
            return "buttons: 1 to 3, titles up to 20"
        return None
    rows = [r for s in action["sections"] for r in s["rows"]]
    if not 1 <= len(rows) <= 10 or any(len(r["title"]) > 24 for r in rows) or len(action["button"]) > 20:
        return "list: 1 to 10 rows, titles up to 24, button up to 20"
    return None
