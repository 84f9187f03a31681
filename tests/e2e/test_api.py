"""The event API, configuration errors and the CLI, in-process with a real
SQLite store (the app's lifespan runs as in production)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.config import ConfigError, load_settings
from bot.importer import import_events
from tests.e2e.process import ROOT, SECONDS_POLICY, TOKEN, placed_event, simple_event

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    policy = tmp_path / "policy.toml"
    policy.write_text(SECONDS_POLICY, encoding="utf-8")
    settings = load_settings(store_url=f"sqlite:///{tmp_path}/bot.sqlite3", api_token=TOKEN, policy=policy)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def post(client: TestClient, event: dict[str, Any], headers: dict[str, str] = AUTH) -> httpx.Response:
    return client.post("/api/v1/events", json=event, headers=headers)


def test_event_accepted_once_and_a_redelivery_is_a_duplicate(client: TestClient) -> None:
    first = post(client, placed_event("A-1"))
    again = post(client, placed_event("A-1"))
    assert first.status_code == 202 and first.json() == {"event_id": "A-1-placed", "duplicate": False}
    assert again.status_code == 200 and again.json()["duplicate"] is True
    order = client.get("/api/v1/orders/A-1", headers=AUTH).json()
    assert order["order"]["buyer"]["name"] == "Ann" and order["link_token"]
    assert [t["name"] for t in order["timers"]] == ["payment_help"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}])
def test_missing_or_wrong_token_is_401_and_stores_nothing(client: TestClient, headers: dict[str, str]) -> None:
    assert post(client, placed_event("A-2"), headers).status_code == 401
    assert client.get("/api/v1/orders/A-2", headers=AUTH).status_code == 404


def test_validation_errors_name_the_field(client: TestClient) -> None:
    event = placed_event("A-3")
    del event["data"]["buyer"]["id"]
    response = post(client, event)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "data.buyer.id"
    bad_type = post(client, {**simple_event("A-3", "order.paid"), "type": "order.exploded"})
    assert bad_type.status_code == 422 and bad_type.json()["detail"][0]["field"] == "type"
    naive = post(client, {**simple_event("A-3", "order.paid"), "occurred_at": "2026-11-22T10:00:00"})
    assert naive.status_code == 422 and naive.json()["detail"][0]["field"] == "occurred_at"
    guessed = post(client, {**simple_event("A-3", "order.paid"), "order_id": "../../etc"})
    assert guessed.status_code == 422 and guessed.json()["detail"][0]["field"] == "order_id"


def test_the_optional_facts_of_the_seller_guides_are_accepted_and_kept(client: TestClient) -> None:
    event = placed_event("A-9", returns_this_month=6, refund_only_requests=2)
    event["data"]["items"][0] |= {"rating": 4.7, "best_seller": True, "category": "shoes", "seasonal": True}
    assert post(client, event).status_code == 202
    order = client.get("/api/v1/orders/A-9", headers=AUTH).json()["order"]
    assert (order["buyer"]["returns_this_month"], order["buyer"]["refund_only_requests"]) == (6, 2)
    item = order["items"][0]
    assert (item["rating"], item["best_seller"], item["category"], item["seasonal"]) == (4.7, True, "shoes", True)
    out_of_range = placed_event("A-10")
    out_of_range["data"]["items"][0]["rating"] = 7
    response = post(client, out_of_range)
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "data.items.0.rating"


def test_a_huge_body_is_413(client: TestClient) -> None:
    event = placed_event("A-4")
    event["data"]["buyer"]["name"] = "x" * 70_000
    assert post(client, event).status_code == 413


def test_not_json_is_422(client: TestClient) -> None:
    response = client.post("/api/v1/events", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 422


def test_openapi_describes_the_event_envelope(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    kinds = [spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]] for ref in body["oneOf"]]
    assert all({"event_id", "type", "order_id", "occurred_at"} <= set(kind["required"]) for kind in kinds)
    assert "/chat/api/bind" in spec["paths"]


def test_web_chat_rejects_a_bad_link_and_reveals_nothing(client: TestClient) -> None:
    post(client, placed_event("A-5"))
    response = client.post("/chat/api/bind", json={"token": "not-a-real-token-123"})
    assert response.status_code == 404 and "A-5" not in response.text
    assert client.get("/chat/api/messages", params={"session": "x" * 20}).status_code == 404


def test_web_chat_binds_and_tells_the_page_the_buyers_language(client: TestClient) -> None:
    event = placed_event("A-6")
    event["data"]["buyer"]["language"] = "pt"
    post(client, event)
    token = client.get("/api/v1/orders/A-6", headers=AUTH).json()["link_token"]
    bound = client.post("/chat/api/bind", json={"token": token}).json()
    assert bound["order_id"] == "A-6" and bound["language"] == "pt"
    messages = client.get("/chat/api/messages", params={"session": bound["session"]}).json()["messages"]
    assert "Pedido" in messages[0]["text"] or "pedido" in messages[0]["text"]


def test_web_chat_page_is_served(client: TestClient) -> None:
    page = client.get("/chat")
    assert page.status_code == 200 and "Order chat" in page.text
    script = client.get("/static/chat.js")
    assert script.status_code == 200 and "textContent" in script.text


def test_a_wrong_setting_stops_start_up_with_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUYERBOT_HTTP_PORT", "eighty")
    with pytest.raises(ConfigError, match=r"^BUYERBOT_HTTP_PORT: "):
        load_settings()
    monkeypatch.delenv("BUYERBOT_HTTP_PORT")
    monkeypatch.setenv("BUYERBOT_WHATSAPP_PHONE_ID", "123")
    with pytest.raises(ConfigError, match="BUYERBOT_WHATSAPP_TOKEN"):
        load_settings()


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=cwd,
        env={**os.environ, **(env or {})}, timeout=60,
    )  # fmt: skip


def test_cli_refuses_a_redis_that_is_down(tmp_path: Path) -> None:
    result = run_cli("run", env={"BUYERBOT_STORE_URL": "redis://127.0.0.1:1/0"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("buyerbot: BUYERBOT_STORE_URL: cannot use")


def test_cli_refuses_an_unknown_store_scheme(tmp_path: Path) -> None:
    result = run_cli("run", env={"BUYERBOT_STORE_URL": "mysql://x"}, cwd=tmp_path)
    assert result.returncode == 2 and "BUYERBOT_STORE_URL" in result.stderr


def test_policy_check_prints_the_timeline_and_rejects_a_bad_duration(tmp_path: Path) -> None:
    good = run_cli("policy", "check", str(ROOT / "policy.toml"))
    assert good.returncode == 0 and "+   12h  hesitation nudge" in good.stdout
    assert "buyer protection: 60d after shipping (BR 90d)" in good.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[unpaid]\nnudge_after = "twelve hours"\n', encoding="utf-8")
    result = run_cli("policy", "check", str(bad))
    assert result.returncode == 2 and "unpaid.nudge_after" in result.stderr


def test_simulator_prints_the_silent_buyers_story() -> None:
    result = run_cli("simulate", "scenarios/silent_buyer_abandoned.yaml")
    assert result.returncode == 0
    bot_lines = [line for line in result.stdout.splitlines() if "  bot: " in line]
    # the order confirmation, the payment guide, the nudge and the offer
    assert len(bot_lines) == 4 and "task: kind=order_lost" in result.stdout


def test_events_import_reads_jsonl_and_csv_through_the_api(client: TestClient, tmp_path: Path) -> None:
    lines = tmp_path / "events.jsonl"
    lines.write_text(
        "\n".join([json.dumps(placed_event("I-1")), json.dumps(placed_event("I-1")), "{broken"]) + "\n",
        encoding="utf-8",
    )
    table = tmp_path / "events.csv"
    table.write_text(
        'event_id,type,order_id,occurred_at,data\nI-1-paid,order.paid,I-1,2026-11-22T10:00:00Z,"{}"\n'
        "I-2-x,order.exploded,I-2,2026-11-22T10:00:00Z,{}\n",
        encoding="utf-8",
    )
    transport = httpx.MockTransport(lambda request: _forward(client, request))
    report = import_events(lines, "http://bot", TOKEN, transport=transport)
    assert (report.accepted, report.duplicates, len(report.rejected)) == (1, 1, 1)
    report = import_events(table, "http://bot", TOKEN, transport=transport)
    assert (report.accepted, len(report.rejected)) == (1, 1) and "line 3" in report.rejected[0]
    assert client.get("/api/v1/orders/I-1", headers=AUTH).json()["order"]["status"] == "paid"


def _forward(client: TestClient, request: httpx.Request) -> httpx.Response:
    response = client.request(request.method, request.url.path, content=request.content, headers=request.headers)
    return httpx.Response(response.status_code, content=response.content)


def test_a_message_for_a_buyer_with_no_channel_shows_as_not_delivered(client: TestClient) -> None:
    assert post(client, placed_event("A-9")).status_code == 202  # a buyer with no channel at all
    deadline = time.monotonic() + 20
    while not (order := client.get("/api/v1/orders/A-9", headers=AUTH).json())["undelivered"]:
        assert time.monotonic() < deadline, order
        time.sleep(0.2)
    (held,) = order["undelivered"]
    assert (held["template"], held["status"]) == ("unpaid/payment_help", "held")
    assert "no channel" in held["reason"]
    transcript = client.get("/api/v1/orders/A-9/transcript", headers=AUTH).json()
    assert any(r["author"] == "note" and r["text"].startswith("not sent (no channel") for r in transcript)
