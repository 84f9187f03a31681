"""Runs the real `buyerbot run` as a child process on a free port, with a
policy in seconds, and talks to it over HTTP like the store and a buyer do."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789"

SECONDS_POLICY = """
[unpaid]
payment_help_after = "2s"
nudge_after = "4s"
offer_after = "6s"
abandon_after = "3s"
[quiet_hours]
start = "00:00"
end = "00:00"
[follow_ups]
min_gap = "0s"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotProcess:
    def __init__(self, tmp: Path, store_url: str | None = None, policy: str = SECONDS_POLICY, **env: str) -> None:
        self.tmp = tmp
        self.port = free_port()
        policy_file = tmp / "policy.toml"
        policy_file.write_text(policy, encoding="utf-8")
        self.env = {
            **os.environ,
            "BUYERBOT_STORE_URL": store_url or f"sqlite:///{tmp}/bot.sqlite3",
            "BUYERBOT_POLICY": str(policy_file),
            "BUYERBOT_HTTP_PORT": str(self.port),
            "BUYERBOT_API_TOKEN": TOKEN,
            "BUYERBOT_LOG_LEVEL": "INFO",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        #: what runs the bot (a store's own bot with BuyerBot attached runs its script)
        self.command = [sys.executable, "-m", "bot", "run"]
        self.log = tmp / "bot.log"
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> BotProcess:
        return self.launch().wait_ready(timeout)

    def launch(self) -> BotProcess:
        """Start the process without waiting for it (several start at once)."""
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.command, cwd=self.tmp, env=self.env, stdout=log, stderr=log)
        return self

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/healthz", timeout=5).json())

    def wait_ready(self, timeout: float = 60) -> BotProcess:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).json().get("ok"):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"bot did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, like a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    # -- the store's side -----------------------------------------------
    def post_event(self, event: dict[str, Any], token: str = TOKEN) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.post(f"{self.url}/api/v1/events", json=event, headers=headers, timeout=10)

    def order(self, order_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/api/v1/orders/{order_id}", headers={"Authorization": f"Bearer {TOKEN}"})
        response.raise_for_status()
        return dict(response.json())

    # -- the buyer's side (web chat) ------------------------------------
    def bind_web_chat(self, order_id: str) -> WebBuyer:
        token = self.order(order_id)["link_token"]
        response = httpx.post(f"{self.url}/chat/api/bind", json={"token": token}, timeout=10)
        response.raise_for_status()
        return WebBuyer(self.url, response.json()["session"])


class WebBuyer:
    """A buyer in the web chat: reads bot messages in order, answers."""

    def __init__(self, url: str, session: str) -> None:
        self.url, self.session = url, session
        self.cursor = ""
        self.unread: list[dict[str, Any]] = []

    def _poll(self) -> None:
        params = {"session": self.session, "after": self.cursor}
        response = httpx.get(f"{self.url}/chat/api/messages", params=params, timeout=10)
        if response.status_code == 503:  # the store is restarting: the page tries again, so do we
            return
        response.raise_for_status()
        data = response.json()
        self.cursor = data["cursor"]
        self.unread += [m for m in data["messages"] if m["author"] != "buyer"]

    def next_reply(self, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not self.unread:
            if time.monotonic() > deadline:
                raise AssertionError(f"no bot message within {timeout}s")
            time.sleep(0.1)
            self._poll()
        return self.unread.pop(0)

    def silence(self, seconds: float) -> list[dict[str, Any]]:
        """Wait `seconds` and return whatever arrived (expected: nothing)."""
        time.sleep(seconds)
        self._poll()
        arrived, self.unread = self.unread, []
        return arrived

    def says(self, text: str) -> None:
        httpx.post(f"{self.url}/chat/api/messages", json={"session": self.session, "text": text}).raise_for_status()

    def presses(self, message: dict[str, Any], action: str) -> None:
        data = next(b["data"] for b in message["buttons"] if b["data"].startswith(action + ":"))
        httpx.post(f"{self.url}/chat/api/messages", json={"session": self.session, "data": data}).raise_for_status()


def placed_event(
    order_id: str, *, first_order: bool = True, event_id: str | None = None, **buyer: Any
) -> dict[str, Any]:
    return {
        "event_id": event_id or f"{order_id}-placed",
        "type": "order.placed",
        "order_id": order_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {
            "buyer": {"id": f"buyer-{order_id}", "name": "Ann", "language": "en", "country": "ES",
                      "first_order": first_order, **buyer},
            "items": [{"sku": "LAMP-1", "title": "Solar lamp", "url": "https://example.com/lamp", "qty": 1,
                       "price": 20.0, "stock_left": 40}],
            "total": {"amount": 20.0, "currency": "USD"},
        },
    }  # fmt: skip


def simple_event(order_id: str, kind: str, event_id: str | None = None, **data: Any) -> dict[str, Any]:
    return {
        "event_id": event_id or f"{order_id}-{kind}",
        "type": kind,
        "order_id": order_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": data,
    }
