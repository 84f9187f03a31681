"""The probes of issue 13 (sections 2-4) against the real `buyerbot run`:
oversized and slow bodies, stalled connections, bad input that used to
answer 500, private files, and the headers of the pages."""

from __future__ import annotations

import os
import socket
import stat
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.e2e.process import TOKEN, BotProcess, placed_event

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {TOKEN}"}
APP_SECRET = "app-secret"
WHATSAPP = {"BUYERBOT_WHATSAPP_PHONE_ID": "123", "BUYERBOT_WHATSAPP_TOKEN": "t",
            "BUYERBOT_WHATSAPP_APP_SECRET": APP_SECRET, "BUYERBOT_WHATSAPP_VERIFY_TOKEN": "v",
            "BUYERBOT_WHATSAPP_API_URL": "http://127.0.0.1:9"}  # fmt: skip
TIGHT = {"BUYERBOT_HTTP_HEADER_TIMEOUT": "1", "BUYERBOT_HTTP_BODY_TIMEOUT": "1",
         "BUYERBOT_HTTP_MAX_CONNECTIONS": "64", "BUYERBOT_HTTP_KEEP_ALIVE_TIMEOUT": "1"}  # fmt: skip


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    tmp = Path(tmp_path_factory.mktemp("probes"))
    env = {**WHATSAPP, **TIGHT, "BUYERBOT_STORE_URL": f"sqlite:///{tmp}/state/bot.sqlite3"}
    process = BotProcess(tmp, **env)
    process.env.pop("BUYERBOT_API_TOKEN")  # generated into var/api_token
    process.start()
    yield process
    process.stop()


def token_of(bot: BotProcess) -> dict[str, str]:
    return {"Authorization": f"Bearer {(bot.tmp / 'var' / 'api_token').read_text().strip()}"}


def raw_request(bot: BotProcess, head: bytes, body: bytes = b"", timeout: float = 20) -> bytes:
    """Sends bytes as they are (headers httpx would refuse) and reads the whole answer."""
    with socket.create_connection(("127.0.0.1", bot.port), timeout=timeout) as sock:
        sock.sendall(head + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and b"connection: close" not in answer.lower():
                break
    return answer


# -- bounded requests ----------------------------------------------------------------------
def test_a_100_mb_body_is_refused_before_it_is_read(bot: BotProcess) -> None:
    head = (b"POST /chat/api/bind HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n")  # fmt: skip
    started = time.monotonic()
    answer = raw_request(bot, head, b'{"token": "')
    assert answer.startswith(b"HTTP/1.1 413") and len(answer) < 1000
    assert time.monotonic() - started < 10


def test_a_streamed_body_without_length_is_cut_at_the_limit(bot: BotProcess) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"token": "'
        for _ in range(2000):  # 2 MB, far over the web chat's 32 KiB
            yield b"a" * 1024

    response = httpx.post(f"{bot.url}/chat/api/messages", content=chunks(),
                          headers={"Content-Type": "application/json"}, timeout=20)  # fmt: skip
    assert response.status_code == 413


@pytest.mark.parametrize("path", ["/whatsapp/webhook", "/api/v1/events", "/api/v1/conversations/X/reply"])
def test_every_door_has_a_limit(bot: BotProcess, path: str) -> None:
    response = httpx.post(f"{bot.url}{path}", content=b"x" * (2 * 1024 * 1024 + 1), headers=token_of(bot))
    assert response.status_code == 413


def test_a_validation_error_echoes_only_an_excerpt(bot: BotProcess) -> None:
    response = httpx.post(f"{bot.url}/chat/api/bind", json={"token": "t" * 30_000})
    assert response.status_code == 422 and len(response.content) < 600


def test_a_body_that_stalls_gets_408_and_the_connection_closes(bot: BotProcess) -> None:
    head = b"POST /chat/api/bind HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    answer = raw_request(bot, head, b'{"tok')
    assert answer.startswith(b"HTTP/1.1 408")


def test_stalled_connections_are_closed_and_healthz_keeps_answering(bot: BotProcess) -> None:
    stalled: list[socket.socket] = []
    try:
        for n in range(200):  # three times the connection cap of 64
            sock = socket.create_connection(("127.0.0.1", bot.port), timeout=30)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " if n % 2 else b"")
            stalled.append(sock)
            if n % 40 == 0:
                assert httpx.get(f"{bot.url}/healthz", timeout=10).json()["ok"]
        assert httpx.get(f"{bot.url}/healthz", timeout=10).json()["ok"]
        # each is closed by the server: its header deadline, or evicted to make room for newer ones
        assert all(_closed(sock) for sock in stalled)
        assert httpx.get(f"{bot.url}/healthz", timeout=10).json()["ok"]
    finally:
        for sock in stalled:
            sock.close()


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


# -- no 5xx on bad input --------------------------------------------------------------------
def test_a_non_ascii_signature_is_401(bot: BotProcess) -> None:
    body = b'{"object": "whatsapp_business_account", "entry": []}'
    head = (b"POST /whatsapp/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"X-Hub-Signature-256: sha256=\xc3\xa9\xc3\xa9\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")  # fmt: skip
    assert raw_request(bot, head, body).startswith(b"HTTP/1.1 401")


@pytest.mark.parametrize("path", ["/chat/api/bind", "/chat/api/messages", "/api/v1/conversations/X/reply"])
def test_a_lone_surrogate_is_422(bot: BotProcess, path: str) -> None:
    body = b'{"token": "\\ud800abcdefgh", "session": "\\udfff' + b"s" * 20 + b'", "text": "\\ud83d"}'
    headers = {**token_of(bot), "Content-Type": "application/json"}
    assert httpx.post(f"{bot.url}{path}", content=body, headers=headers).status_code == 422


@pytest.mark.parametrize("after", ["99999999999999999999999", "-1", "1e400", "x"])
def test_after_out_of_range_is_422(bot: BotProcess, after: str) -> None:
    httpx.post(f"{bot.url}/api/v1/events", json=placed_event("P-1"), headers=token_of(bot))
    response = httpx.get(f"{bot.url}/api/v1/orders/P-1/transcript", params={"after": after}, headers=token_of(bot))
    assert response.status_code == 422


# -- private files and safe pages ------------------------------------------------------------
def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_files_are_private(bot: BotProcess) -> None:
    state = bot.tmp / "state"
    assert mode(state) == 0o700 and mode(bot.tmp / "var") == 0o700
    assert mode(state / "bot.sqlite3") == 0o600 and mode(state / "bot.sqlite3-wal") == 0o600
    assert mode(bot.tmp / "var" / "api_token") == 0o600


def test_a_token_file_others_can_read_is_a_start_up_warning(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    token_file = tmp_path / "var" / "api_token"
    token_file.write_text("shared-token-0123456789\n")
    os.chmod(token_file, 0o644)
    other = BotProcess(tmp_path)
    other.env.pop("BUYERBOT_API_TOKEN")
    try:
        other.start()
        assert "can be read by other users" in other.log.read_text()
    finally:
        other.stop()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style" or (tag == "script" and "src" not in names) or "style" in names:
            self.inline.append(tag)
        self.inline += [name for name in names if name.startswith("on")]


@pytest.mark.parametrize("path", ["/chat", "/login"])
def test_pages_send_a_strict_policy_and_carry_no_inline_code(bot: BotProcess, path: str) -> None:
    page = httpx.get(f"{bot.url}{path}", headers=token_of(bot))
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
    tags = _Tags()
    tags.feed(page.text)
    assert tags.inline == []


def test_docs_are_off_by_default(bot: BotProcess) -> None:
    assert httpx.get(f"{bot.url}/docs").status_code == 404
    assert httpx.get(f"{bot.url}/openapi.json").status_code == 200
