"""A link request (a second chat proved an order already bound elsewhere) is
answered by an agent through the API: approved, the conversation moves to
the new chat; until then it never does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import load_settings
from dialogs.model import Inbound
from tests.e2e.process import SECONDS_POLICY, TOKEN, placed_event

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    policy = tmp_path / "policy.toml"
    policy.write_text(SECONDS_POLICY, encoding="utf-8")
    settings = load_settings(store_url=f"sqlite:///{tmp_path}/bot.sqlite3", api_token=TOKEN, policy=policy)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def conversation(client: TestClient, order_id: str) -> dict[str, Any]:
    return dict(client.get(f"/api/v1/orders/{order_id}", headers=AUTH).json()["conversation"])


def until(check: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_an_agent_approves_a_link_request_and_only_then_the_chat_moves(client: TestClient) -> None:
    client.post("/api/v1/events", json=placed_event("L-1", telegram_chat_id=42, phone="+34600112233"), headers=AUTH)
    until(lambda: conversation(client, "L-1")["address"] == "42")
    runtime = client.app.state.services.runtime  # type: ignore[attr-defined]
    payload = {"channel": "telegram", "address": "666", "via": "order_number", "request": "ab12"}
    asked = Inbound("L-1", "buyer_bound", payload, "bind:telegram:666:L-1:ab12", datetime.now(UTC))
    client.portal.call(runtime.submit, asked)  # type: ignore[union-attr]
    requests = until(lambda: conversation(client, "L-1")["memory"].get("link_requests"))
    assert requests["ab12"]["state"] == "asked" and conversation(client, "L-1")["address"] == "42"
    tasks = client.get("/api/v1/tasks", headers=AUTH).json()
    assert [t["request"] for t in tasks if t["kind"] == "link_request"] == ["ab12"]  # the team is told
    url = "/api/v1/orders/L-1/link-requests/ab12/approve"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=AUTH, json={"agent": "maria"}).status_code == 202
    until(lambda: conversation(client, "L-1")["address"] == "666")
    assert conversation(client, "L-1")["memory"]["link_requests"]["ab12"]["by"] == "maria"
    assert client.post(url, headers=AUTH).status_code == 409  # answered already
    notes = [e["text"] for e in client.get("/api/v1/orders/L-1/transcript", headers=AUTH).json()]
    assert any("link request ab12 approved by maria" in n for n in notes)
