"""Two real `buyerbot run` processes on one real redis-server behind a load balancer: an agent's
console page is served by one, the buyer's order arrives at the other, and the page's live
stream still hears of it (the relay through Redis), as it does on one process."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.e2e.console_env import SLOW_POLICY, Person, add_user
from tests.e2e.process import BotProcess, placed_event
from tests.redis_server import RedisServer

pytestmark = pytest.mark.slow


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[list[BotProcess]]:
    with ExitStack() as stack:
        (tmp_path / "redis").mkdir()
        redis = stack.enter_context(RedisServer(tmp_path / "redis"))
        bots = []
        for k in range(2):
            (tmp_path / f"p{k}").mkdir()
            bot = BotProcess(tmp_path / f"p{k}", store_url=redis.url, policy=SLOW_POLICY)
            stack.callback(bot.stop)
            bots.append(bot.launch())
        yield [bot.wait_ready(90) for bot in bots]


def test_a_console_page_hears_of_orders_taken_by_another_process(two_processes: list[BotProcess]) -> None:
    first, second = two_processes
    add_user(second, "kim", "agent")  # one store of accounts: Redis
    kim = Person(second, "kim")
    heard: list[str] = []
    placed: list[str] = []
    stop = threading.Event()

    def place_orders() -> None:  # until the page hears one: the stream may subscribe a moment after its headers
        for n in itertools.count():
            if stop.wait(0.5 if n else 0.2):
                return
            order_id = f"LIVE-{n}"
            assert first.post_event(placed_event(order_id)).status_code in (200, 202)
            placed.append(order_id)

    orders = threading.Thread(target=place_orders, daemon=True)
    deadline = time.monotonic() + 60
    with kim.client.stream("GET", "/console/live", timeout=httpx.Timeout(30)) as stream:
        assert stream.status_code == 200
        orders.start()
        try:
            event = ""
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "changed":
                    heard.append(line[5:].strip())
                    if heard[-1] in placed:
                        break
                if time.monotonic() > deadline:
                    break
        finally:
            stop.set()
            orders.join(timeout=10)
    assert placed and heard and heard[-1] in placed, (placed, heard)
