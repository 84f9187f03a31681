"""The web console in real Chromium (Debian's, through Playwright) against the
real process: an agent logs in, sees the waiting buyer, watches a buyer's
message arrive live, claims, replies, offers a discount, hands back; an
operator reads the audit log, marks the resulting task done, and reads the
funnel of a scripted set of orders that the JSON API confirms.
BUYERBOT_SCREENSHOTS=DIR saves each screen (docs/console.md uses them)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.console_env import PASSWORD, SLOW_POLICY, add_user
from tests.e2e.funnel_script import EXPECTED, FUNNEL_POLICY, run_script, until
from tests.e2e.process import BotProcess, placed_event
from tests.e2e.test_funnel import settled_funnel

pytestmark = pytest.mark.slow
WAIT = 15_000  # ms: a loaded machine


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=WAIT)
    return playwright_expect(locator)


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("BUYERBOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def browser_of(browser: Any) -> Iterator[Any]:
    """New contexts of this test's people, closed (with their live streams) at its end."""
    opened: list[Any] = []

    def new_context() -> Any:
        opened.append(browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="Europe/Madrid"))
        return opened[-1]

    yield new_context
    for context in opened:
        context.close()


def log_in(new_context: Any, bot: BotProcess, name: str, path: str = "/console") -> Any:
    context = new_context()
    context.set_default_timeout(WAIT)
    page = context.new_page()
    page.goto(f"{bot.url}{path}")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    if name == "kim":
        shot(page, "login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page.locator("header .who")).to_contain_text(name)
    return page


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(tmp_path, policy=SLOW_POLICY).start()
    add_user(process, "olga", "operator")
    add_user(process, "kim", "agent")
    yield process
    process.stop()


def test_agent_claims_replies_offers_hands_back_and_operator_closes_the_task(desk: BotProcess, browser_of: Any) -> None:
    assert desk.post_event(placed_event("W-7", first_order=False)).status_code == 202
    buyer = desk.bind_web_chat("W-7")
    buyer.presses(until(buyer, "linked to your order"), "talk_to_person")

    kim = log_in(browser_of, desk, "kim")
    expect(kim.locator("#nav-funnel")).to_have_count(0)  # agents have no funnel
    kim.click("#view-waiting")
    row = kim.locator("tr.row", has_text="W-7")
    expect(row.locator(".badge.waiting")).to_be_visible()
    shot(kim, "inbox")
    row.locator("a.open").click()
    expect(kim.locator(".line.buyer .pressed")).to_contain_text("Talk to a person")
    expect(kim.locator("#ownership")).to_have_text("waiting for a person")

    kim.wait_for_function("document.body.dataset.liveReady === '1'")
    buyer.says("Is anyone there?")  # arrives without a reload
    expect(kim.locator(".line.buyer", has_text="Is anyone there?")).to_be_visible()

    kim.click("#claim")
    expect(kim.locator("#ownership")).to_have_text("with kim")
    kim.fill("#reply-text", "Hello Ann, this is Kim from the store.")
    kim.click("#reply")
    assert until(buyer, "this is Kim")["text"] == "Hello Ann, this is Kim from the store."
    expect(kim.locator(".line.agent", has_text="this is Kim")).to_be_visible()
    kim.fill("#offer-percent", "5")
    kim.click("#offer")
    offer = until(buyer, "5% off")
    expect(kim.locator("#action-done")).to_contain_text("offer")
    shot(kim, "conversation")
    kim.click("#handback")
    expect(kim.locator("#ownership")).to_have_text("with the bot")
    buyer.presses(offer, "accept_offer")  # the bot has the chat again: the dialog takes it
    assert "19.00" in until(buyer, "19.00")["text"]

    olga = log_in(browser_of, desk, "olga", "/console/users")
    audit = olga.locator("#audit")
    for action in ("claimed", "replied", "offered discount", "handed back"):
        expect(audit.locator("tr", has_text=action).filter(has_text="kim")).to_have_count(1)
    shot(olga, "people")
    olga.click("#nav-tasks")
    task = olga.locator("tr.task.open", has_text="adjust price").filter(has_text="W-7")
    expect(task).to_contain_text("new total: 19.00")
    shot(olga, "tasks")
    task.locator("button.done").click()
    olga.click("#tasks-done")
    expect(olga.locator("tr.task.done", has_text="W-7")).to_contain_text("done by olga")


@pytest.fixture
def store_with_orders(tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(tmp_path, policy=FUNNEL_POLICY).start()
    add_user(process, "olga", "operator")
    yield process
    process.stop()


def test_funnel_page_shows_the_scripted_orders(store_with_orders: BotProcess, browser_of: Any) -> None:
    bot = store_with_orders
    run_script(bot)
    funnel = settled_funnel(bot)
    assert {key: funnel[key] for key in EXPECTED} == EXPECTED  # the JSON API
    olga = log_in(browser_of, bot, "olga", f"/console/funnel?from={funnel['from']}&to={funnel['to']}")
    numbers = {
        "#n-orders": "8", "#n-paid-without": "2", "#n-after-payment_help": "1", "#n-after-nudge": "1",
        "#n-after-offer": "1", "#n-lost": "1", "#n-cancelled": "1", "#n-revenue": "60.00 USD",
        "#n-discount": "0.60 USD",
    }  # fmt: skip
    for selector, value in numbers.items():
        expect(olga.locator(f"{selector} strong")).to_have_text(value)
    expect(olga.locator("#control")).to_contain_text("2")
    expect(olga.locator("#uplift")).to_contain_text("95% interval")
    bars = olga.locator("#chart-steps rect")
    expect(bars).to_have_count(7)
    assert olga.locator("#chart-steps text.value").all_text_contents() == ["8", "2", "1", "1", "1", "1", "1"]
    shot(olga, "funnel")
