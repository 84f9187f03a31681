"""Operations of the real process: Prometheus metrics behind the API token or
on their own port, one log line per handled input, JSON logs, and the
`transitions` library's chatter kept out of the log."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.console_env import SLOW_POLICY
from tests.e2e.funnel_script import until
from tests.e2e.process import TOKEN, BotProcess, free_port, placed_event

pytestmark = pytest.mark.slow
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{name}{{{wanted}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found[1]) if found else 0.0


def wait_for_metric(url: str, name: str, at_least: float, headers: dict[str, str] | None = None, **labels: str) -> str:
    deadline = time.monotonic() + 15
    while True:
        text = httpx.get(url, headers=headers or {}).text
        if metric(text, name, **labels) >= at_least or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def test_metrics_logs_and_the_separate_port(tmp_path: Path) -> None:
    port = free_port()
    bot = BotProcess(tmp_path, policy=SLOW_POLICY, BUYERBOT_LOG_FORMAT="json", BUYERBOT_METRICS_PORT=str(port))
    bot.start()
    try:
        assert httpx.get(f"{bot.url}/metrics").status_code == 401
        assert bot.post_event(placed_event("M-1", first_order=False)).status_code == 202
        buyer = bot.bind_web_chat("M-1")
        buyer.presses(until(buyer, "linked to your order"), "talk_to_person")
        text = wait_for_metric(f"{bot.url}/metrics", "buyerbot_conversations_waiting", 1, BEARER)
        assert metric(text, "buyerbot_inputs_total", door="events") == 1
        assert metric(text, "buyerbot_inputs_total", door="webchat") >= 1
        assert metric(text, "buyerbot_sends_total", channel="webchat", result="ok") >= 1
        assert metric(text, "buyerbot_follow_ups_pending") == 0  # paused while a person has the chat
        assert metric(text, "buyerbot_oldest_wait_seconds") >= 0
        separate = wait_for_metric(f"http://127.0.0.1:{port}/metrics", "buyerbot_conversations_waiting", 1)
        assert metric(separate, "buyerbot_conversations_waiting") == 1, "no token needed on the metrics port"
    finally:
        bot.stop()
    lines = [json.loads(line) for line in bot.log.read_text().splitlines() if line.strip()]
    handled = [entry for entry in lines if entry["logger"] == "buyerbot.inputs"]
    assert {"source_id": "event:M-1-placed", "order_id": "M-1", "conversation_id": "M-1"}.items() <= handled[0].items()
    assert any(entry["door"] == "web" for entry in handled)
    assert not [entry for entry in lines if entry["logger"].startswith("transitions")]
    assert any(entry["logger"].startswith("uvicorn") for entry in lines), "the server's lines are JSON too"
