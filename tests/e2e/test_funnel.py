"""The funnel of a scripted set of orders read back through the JSON API of
the real process: every outcome counted where it belongs, the control group
untouched by the journey, operators and the API token only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.console_env import Person, add_user
from tests.e2e.funnel_script import EXPECTED, FUNNEL_POLICY, run_script
from tests.e2e.process import TOKEN, BotProcess

pytestmark = pytest.mark.slow
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(tmp_path, policy=FUNNEL_POLICY).start()
    yield process
    process.stop()


def settled_funnel(bot: BotProcess, timeout: float = 20) -> dict[str, Any]:
    today = datetime.now(UTC).date()  # the funnel's days are the store's (Shanghai): a day either side
    span = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    deadline = time.monotonic() + timeout
    while True:
        funnel = httpx.get(f"{bot.url}/api/v1/stats/funnel", params=span,
                           headers=BEARER).json()  # fmt: skip
        if funnel["lost"] == EXPECTED["lost"] or time.monotonic() > deadline:
            return dict(funnel)
        time.sleep(0.2)


def test_funnel_of_a_scripted_set_of_orders(bot: BotProcess) -> None:
    run_script(bot)
    funnel = settled_funnel(bot)
    assert {key: funnel[key] for key in EXPECTED} == EXPECTED
    assert funnel["by_channel"]["webchat"]["orders"] == 8 and funnel["by_language"]["en"]["lost"] == 1
    uplift = funnel["uplift"]
    assert uplift["treated_rate"] == round(4 / 6, 4) and uplift["control_rate"] == 0.5
    low, high = uplift["ci95"]
    assert low < uplift["difference"] < high
    assert sum(day["orders"] for day in funnel["daily"]) == 8


def test_funnel_is_for_operators_and_the_api_token(bot: BotProcess) -> None:
    add_user(bot, "olga", "operator")
    add_user(bot, "kim", "agent")
    olga, kim = Person(bot, "olga"), Person(bot, "kim")
    assert olga.page("/api/v1/stats/funnel").status_code == 200
    assert kim.page("/api/v1/stats/funnel").status_code == 403
    page = olga.page("/console/funnel?from=2026-01-01&to=2026-01-31")
    assert page.status_code == 200 and 'id="chart-steps"' in page.text and "<script>" not in page.text
    assert kim.page("/console/funnel").status_code == 403
    assert httpx.get(f"{bot.url}/api/v1/stats/funnel").status_code == 401
    wrong = httpx.get(f"{bot.url}/api/v1/stats/funnel", params={"from": "2026-02-30"}, headers=BEARER)
    assert wrong.status_code == 422
    empty = httpx.get(f"{bot.url}/api/v1/stats/funnel", params={"from": "2020-01-01", "to": "2020-01-31"},
                      headers=BEARER).json()  # fmt: skip
    assert empty["orders"] == 0 and empty["uplift"] is None and empty["paid_after"]["offer"] == 0
