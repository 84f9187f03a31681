"""The web console from outside: accounts made with the real `buyerbot users`
command, a person logged in through the login form with their own cookies,
form posts carrying the page's CSRF token."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import httpx

from tests.e2e.process import BotProcess

PASSWORD = "a-long-secret-1234"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SLOW_POLICY = """
[unpaid]
payment_help_after = "1h"
nudge_after = "12h"
offer_after = "2d"
[quiet_hours]
start = "00:00"
end = "00:00"
"""


def users(bot: BotProcess, *args: str, password: str | None = PASSWORD) -> subprocess.CompletedProcess[str]:
    """`buyerbot users ARGS` against the bot's store (as the operator runs it)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "users", *args, *(["--password-stdin"] if password else [])],
        input=(password + "\n") if password else None,
        cwd=bot.tmp, env=bot.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def add_user(bot: BotProcess, name: str, role: str) -> None:
    done = users(bot, "add", name, "--role", role)
    assert done.returncode == 0, done.stderr


class Person:
    """One browser-less person: their own cookie jar."""

    def __init__(self, bot: BotProcess, name: str, password: str = PASSWORD) -> None:
        self.name = name
        self.client = httpx.Client(base_url=bot.url, timeout=15, follow_redirects=False)
        self.login_response = self.login(password)

    def login(self, password: str) -> httpx.Response:
        form = self.client.get("/login")
        nonce = re.search(r'name="login_csrf" value="([^"]+)"', form.text)
        assert nonce is not None
        data = {"name": self.name, "password": password, "login_csrf": nonce[1], "next": "/console"}
        return self.client.post("/login", data=data)

    def page(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def csrf(self, path: str = "/console") -> str:
        found = CSRF.search(self.page(path).text)
        assert found is not None, "no form token on the page: not logged in?"
        return found[1]

    def act(self, conversation_id: str, action: str, **form: str) -> httpx.Response:
        page = f"/console/c/{conversation_id}"
        data = {"csrf": self.csrf(page), **form}
        return self.client.post(f"{page}/{action}", data=data)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf()} if method != "GET" else {}
        return self.client.request(method, path, headers=headers, **kwargs)
