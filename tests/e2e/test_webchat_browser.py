"""The web chat in real Chromium on a phone screen (390x844), against the real
process: a Spanish-speaking buyer binds with the order link, goes through the
device dialog with a real photo and a real video from the "phone", presses a
button, reads an agent's reply that arrives live, and keeps two orders apart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import phone_context
from tests.e2e.process import BotProcess
from tests.e2e.webchat_helpers import ALWAYS_OPEN, AUTH, agent, agent_replies, event, place_order, png, transcript, webm

pytestmark = pytest.mark.slow
BOT = Path(__file__).resolve().parents[2] / "bot"
WAIT = 20_000  # ms: the machine is shared and slow at times
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "webchat"


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(tmp_path, policy=ALWAYS_OPEN).start()
    yield process
    process.stop()


@pytest.fixture
def buyer(browser: Any) -> Iterator[Any]:
    """A Spanish-speaking buyer's phone in Madrid; fails on any script or CSP error."""
    context = phone_context(browser, locale="es-ES", timezone_id="Europe/Madrid")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.polls = []  # type: ignore[attr-defined]
    page.on("request", lambda r: page.polls.append(r.url) if "/chat/api/messages?" in r.url else None)
    yield page
    context.close()
    assert [p for p in problems if "Content Security Policy" in p or "Uncaught" in p] == []


def shot(page: Any, name: str) -> None:
    """Screenshots for docs/webchat.md, when asked for (BUYERBOT_SCREENSHOTS=1)."""
    import os

    if os.environ.get("BUYERBOT_SCREENSHOTS"):
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"))


def bubbles(page: Any, author: str) -> Any:
    return page.locator(f"#log .msg.{author}")


def test_device_dialog_on_a_phone_with_a_photo_a_video_a_button_and_a_live_agent(
    bot: BotProcess, buyer: Any, browser: Any, tmp_path: Path
) -> None:
    link = place_order(bot, "D-100", "Lámpara solar", language="es")
    event(bot, "D-100", "order.paid")
    buyer.goto(link)
    expect_text(buyer.locator("#store"), "Lumen Store")
    expect_text(buyer.locator("#order-item"), "Pedido D-100: Lámpara solar")
    expect_text(buyer.locator("#order-total"), "20,00")
    expect_text(buyer.locator("#order-status"), "Pagado")
    assert "t=" not in buyer.url  # the link's code left the address bar
    first = bubbles(buyer, "bot").first
    expect_text(first, "D-100")
    expect_text(first.locator(".who"), "Asistente de la tienda")
    assert buyer.locator("html").get_attribute("lang") == "es"
    assert buyer.locator("#text").get_attribute("placeholder") == "Escriba un mensaje"

    event(bot, "D-100", "aftersales.opened", reason="not_working")  # arrives live
    said(buyer, "bot", "Un video corto")

    video = webm(browser, tmp_path / "problem.webm")
    buyer.locator("#file").set_input_files(str(video))
    sent_video = bubbles(buyer, "buyer").locator("video")
    sent_video.wait_for(timeout=WAIT)
    said(buyer, "bot", "solo nos falta una foto")  # the video was taken, a photo is missing

    buyer.locator("#file").set_input_files(str(png(tmp_path / "item.png")))
    photo = bubbles(buyer, "buyer").locator("img")
    photo.wait_for(timeout=WAIT)
    buyer.wait_for_function("() => document.querySelector('#log .buyer img').naturalWidth === 96", timeout=WAIT)
    question = said(buyer, "bot", "embalaje exterior (la caja")
    yes = question.get_by_role("button", name="Sí, se ve")
    yes.wait_for(timeout=WAIT)
    assert yes.is_enabled()
    assert bubbles(buyer, "bot").first.get_by_role("button").first.is_disabled()  # an older step
    shot(buyer, "1-evidence")

    yes.click()
    expect_text(bubbles(buyer, "buyer").last, "Sí, se ve")  # the press, by its label
    buyer.wait_for_function(
        "() => [...document.querySelectorAll('#log .bot button')].every(b => b.disabled)", timeout=WAIT
    )
    assert yes.get_attribute("aria-pressed") == "true"
    assert question.get_by_role("button", name="No, la repito").is_disabled()
    said(buyer, "bot", "ya tenemos todo lo necesario")

    marta = agent(bot, "Marta")
    agent_replies(marta, "D-100", "Hola, soy Marta. Ya vi el vídeo: le enviamos otra lámpara.")
    reply = bubbles(buyer, "agent").first
    expect_text(reply, "le enviamos otra lámpara")
    expect_text(reply.locator(".who"), "Marta · equipo de la tienda")
    shot(buyer, "2-agent")
    assert buyer.polls == []  # live by Server-Sent Events, no polling

    wrote = [m for m in transcript(bot, "D-100") if m["author"] == "buyer"]
    assert [m["text"] for m in wrote][-1] == "Sí, se ve"  # agents read the label too
    kinds = [item["kind"] for m in wrote for item in m["media"]]
    assert kinds == ["video", "photo"]
    listed = httpx.get(f"{bot.url}/api/v1/orders/D-100/media", headers=AUTH).json()
    assert [m["kind"] for m in listed] == ["video", "photo"]  # the order's files, for the store's people
    # the console shows them inline, to a logged-in person only
    page = marta.page("/console/c/D-100").text
    assert f'<video src="{listed[0]["url"]}"' in page and f'<img src="{listed[1]["url"]}"' in page
    assert marta.page(listed[1]["url"]).headers["content-type"] == "image/png"
    assert httpx.get(f"{bot.url}{listed[1]['url']}").status_code == 401
    evidence = bot.order("D-100")["order"]["facts"]["evidence"]
    assert len(evidence["videos"]) == len(evidence["photos"]) == 1 and evidence["packaging"] is True


def test_two_orders_in_one_browser_stay_apart(bot: BotProcess, buyer: Any) -> None:
    first = place_order(bot, "A-1", "Lámpara solar", language="es")
    second = place_order(bot, "A-2", "Auriculares", language="es")
    buyer.goto(first)
    expect_text(bubbles(buyer, "bot").first, "A-1")
    buyer.locator("#text").fill("hola, una pregunta sobre la lámpara")
    buyer.keyboard.press("Enter")
    expect_text(bubbles(buyer, "buyer").first, "sobre la lámpara")

    buyer.goto(second)
    expect_text(bubbles(buyer, "bot").first, "A-2")
    assert buyer.locator("#orders option").count() == 2
    assert buyer.locator("#switch").is_visible()
    assert bubbles(buyer, "buyer").count() == 0  # nothing of A-1 here
    assert "A-1" not in buyer.locator("#log").inner_text()
    shot(buyer, "3-two-orders")

    buyer.locator("#orders").select_option("A-1")
    expect_text(buyer.locator("#order-item"), "Pedido A-1: Lámpara solar")
    expect_text(bubbles(buyer, "buyer").first, "sobre la lámpara")
    assert "A-2" not in buyer.locator("#log").inner_text()


def test_a_file_that_only_looks_like_a_photo_is_refused_in_the_buyers_language(
    bot: BotProcess, buyer: Any, tmp_path: Path
) -> None:
    buyer.goto(place_order(bot, "F-1", "Lámpara solar", language="es"))
    expect_text(bubbles(buyer, "bot").first, "F-1")
    fake = tmp_path / "foto.jpg"
    fake.write_text("<?php echo 'not a photo'; ?>", encoding="utf-8")
    buyer.locator("#file").set_input_files(str(fake))
    expect_text(buyer.locator("#log .fail"), "Solo se pueden enviar fotos")
    assert [m for m in transcript(bot, "F-1") if m["author"] == "buyer"] == []


def test_the_code_screen_has_no_message_box_and_says_a_wrong_code_in_the_buyers_language(
    bot: BotProcess, buyer: Any
) -> None:
    buyer.goto(f"{bot.url}/chat")
    buyer.locator("#token").wait_for(timeout=WAIT)
    assert not buyer.locator("#send-form").is_visible()
    assert buyer.locator("label[for=token]").inner_text() == "Código del pedido"
    buyer.locator("#token").fill("not-a-real-code")
    buyer.keyboard.press("Enter")
    expect_text(buyer.locator("#status"), "no es válido")
    assert not buyer.locator("#send-form").is_visible()
    shot(buyer, "0-code")


def test_the_page_is_small_and_runs_only_its_own_files(bot: BotProcess) -> None:
    files = (BOT / "api" / "chat.html", BOT / "static" / "chat.js", BOT / "static" / "chat.css")
    size = sum(path.stat().st_size for path in files)
    assert size < 100 * 1024
    page = httpx.get(f"{bot.url}/chat")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert not re.search(r"<script>|<script(?![^>]*src=)[^>]*>|\son\w+=|style=", page.text)


def said(page: Any, author: str, text: str) -> Any:
    """The message of `author` that contains `text`, once it has arrived."""
    found = page.locator(f"#log .msg.{author}", has_text=text).last
    found.wait_for(timeout=WAIT)
    return found


def expect_text(locator: Any, text: str) -> None:
    """Wait until the element exists and contains `text` (messages arrive asynchronously)."""
    locator.wait_for(timeout=WAIT)
    page = locator.page
    handle = locator.element_handle(timeout=WAIT)
    page.wait_for_function("([el, text]) => el.textContent.includes(text)", arg=[handle, text], timeout=WAIT)


def test_a_send_that_fails_is_shown_and_retried_until_it_is_taken(bot: BotProcess, buyer: Any) -> None:
    buyer.goto(place_order(bot, "E-1", "Lámpara solar", language="es"))
    said(buyer, "bot", "E-1")
    failures = []

    def flaky(route: Any) -> None:
        if not failures:  # the first try is lost on the way
            failures.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    buyer.route("**/chat/api/messages", flaky)
    buyer.locator("#text").fill("¿dónde está mi paquete?")
    buyer.get_by_role("button", name="Enviar", exact=True).click()
    expect_text(buyer.locator("#log .fail"), "No enviado")
    expect_text(bubbles(buyer, "bot").last, "E-1")  # the retry went through and was answered
    said(buyer, "buyer", "¿dónde está mi paquete?")
    buyer.wait_for_function("() => !document.querySelector('#log .pending')", timeout=WAIT)
    assert [m["text"] for m in transcript(bot, "E-1") if m["author"] == "buyer"] == ["¿dónde está mi paquete?"]


def test_the_page_reconnects_after_the_bot_restarts_and_catches_up(bot: BotProcess, buyer: Any) -> None:
    buyer.goto(place_order(bot, "K-7", "Lámpara solar", language="es"))
    said(buyer, "bot", "K-7")
    bot.kill()  # the stream drops
    expect_text(buyer.locator("#banner"), "Reconectando")
    bot.start()
    event(bot, "K-7", "order.paid")  # after the restart: arrives on the reconnected stream
    said(buyer, "bot", "Pago recibido")
    buyer.wait_for_function("() => document.querySelector('#banner').hidden", timeout=WAIT)
    expect_text(buyer.locator("#order-status"), "Pagado")
    texts = buyer.locator("#log .msg").all_inner_texts()
    assert len(set(texts)) == len(texts)  # caught up from the last message seen: nothing shown twice
