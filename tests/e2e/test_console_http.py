"""The web console over HTTP against the real process: accounts from the
command line, login and roles, the API token kept out, CSRF, actions authored
by the session (never the body), the audit log, tasks open and done."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.console_env import SLOW_POLICY, Person, add_user, users
from tests.e2e.process import TOKEN, BotProcess, placed_event
from tests.redis_server import RedisServer

pytestmark = pytest.mark.slow
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(tmp_path, policy=SLOW_POLICY).start()
    add_user(process, "olga", "operator")
    add_user(process, "kim", "agent")
    add_user(process, "lee", "agent")
    yield process
    process.stop()


def wait_for(condition, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_accounts_from_the_command_line_and_who_gets_in(bot: BotProcess) -> None:
    assert users(bot, "add", "kim", "--role", "operator").returncode == 1  # the name is taken
    listed = users(bot, "list", password=None).stdout
    assert "kim\tagent\tactive" in listed and "olga\toperator\tactive" in listed
    generated = users(bot, "reset", "lee", password=None)
    assert generated.returncode == 0 and "password: " in generated.stdout

    stranger = httpx.Client(base_url=bot.url, follow_redirects=False)
    assert stranger.get("/console").headers["location"] == "/login?next=/console"
    assert stranger.get("/console", headers=BEARER).status_code == 303, "the API token does not open the console"
    assert stranger.get("/api/v1/audit").status_code == 401

    wrong = Person(bot, "kim", "not-the-password")
    assert wrong.login_response.status_code == 401 and "Wrong name or password" in wrong.login_response.text

    kim = Person(bot, "kim")
    assert kim.login_response.status_code == 303
    cookie = kim.login_response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie  # plain http here
    assert kim.page("/console").status_code == 200
    assert kim.page("/console/users").status_code == 403 and kim.page("/api/v1/audit").status_code == 403
    olga = Person(bot, "olga")
    assert "kim" in olga.page("/console/users").text

    assert users(bot, "disable", "kim", password=None).returncode == 0
    assert kim.page("/console").status_code == 303, "a disabled account is logged out at once"
    assert Person(bot, "kim").login_response.status_code == 401

    lee_password = generated.stdout.rsplit("password: ", 1)[1].strip()
    assert Person(bot, "lee", lee_password).login_response.status_code == 303, "the reset password works"
    for _ in range(5):
        assert Person(bot, "lee", "guessing-again").login_response.status_code == 401
    blocked = Person(bot, "lee", lee_password)  # right, but after too many wrong ones
    assert blocked.login_response.status_code == 429 and "Too many wrong passwords" in blocked.login_response.text

    logout = olga.client.post("/logout", data={"csrf": olga.csrf()})
    assert logout.status_code == 303 and olga.page("/console").status_code == 303


def test_claim_reply_offer_hand_back_authored_by_the_session(bot: BotProcess) -> None:
    assert bot.post_event(placed_event("W-1", first_order=False)).status_code == 202
    buyer = bot.bind_web_chat("W-1")
    welcome = buyer.next_reply()
    buyer.presses(welcome, "talk_to_person")
    buyer.next_reply()  # the honest "a person will answer" message
    kim, lee = Person(bot, "kim"), Person(bot, "lee")

    waiting = wait_for(lambda: kim.api("GET", "/api/v1/inbox?view=waiting").json())
    assert [(w["order_id"], w["ownership"]) for w in waiting] == [("W-1", "waiting")]
    assert waiting[0]["unread"] >= 1 and waiting[0]["deadline_at"]
    assert kim.api("GET", "/api/v1/inbox?q=ann").json()[0]["order_id"] == "W-1"  # the buyer's name
    assert kim.api("GET", "/api/v1/inbox?q=nobody-like-this").json() == []

    no_token = kim.client.post("/console/c/W-1/claim", data={})
    assert no_token.status_code == 403, "a form post without the page's token is refused"
    assert kim.act("W-1", "claim").status_code == 303
    assert bot.order("W-1")["conversation"]["memory"]["agent"] == "kim"
    assert kim.api("GET", "/api/v1/inbox?view=mine").json()[0]["order_id"] == "W-1"
    assert lee.api("GET", "/api/v1/inbox?view=others").json()[0]["agent"] == "kim"
    assert "error=" in lee.act("W-1", "reply", text="me too").headers["location"], "kim has this chat"

    kim.act("W-1", "reply", text="Hello Ann, Kim here.")
    assert buyer.next_reply()["text"] == "Hello Ann, Kim here."
    spoofed = kim.api("POST", "/api/v1/conversations/W-1/reply", json={"text": "Second line", "agent": "Mallory"})
    assert spoofed.status_code == 202
    assert buyer.next_reply()["text"] == "Second line"
    machine = httpx.post(f"{bot.url}/api/v1/conversations/W-1/reply", json={"text": "x"}, headers=BEARER)
    assert machine.status_code == 401, "the API token does not act as a person"

    assert "error=" in kim.act("W-1", "offer", percent="50").headers["location"]  # over the ceiling
    kim.act("W-1", "offer", percent="5")
    offer = buyer.next_reply()
    assert "5% off" in offer["text"]
    kim.act("W-1", "canned", template="thanks")
    assert "Thank you for your patience, Ann!" in buyer.next_reply()["text"]
    kim.act("W-1", "handback")
    assert wait_for(lambda: bot.order("W-1")["conversation"]["ownership"] == "bot")

    olga = Person(bot, "olga")
    audit = olga.api("GET", "/api/v1/audit").json()
    mine = [(a["actor"], a["action"]) for a in audit if a["target"] == "W-1"]
    assert mine == [("kim", a) for a in ("handed_back", "replied", "offered_discount", "replied", "replied",
                                          "claimed")]  # fmt: skip
    view = kim.page("/console/c/W-1").text
    assert "pressed “Talk to a person”" in view and "Hello Ann, Kim here." in view
    assert '<strong id="order-total">$20.00</strong>' in view and "Solar lamp</a> · $20.00" in view


def test_tasks_are_open_until_someone_marks_them_done(bot: BotProcess) -> None:
    assert bot.post_event(placed_event("T-1", first_order=False)).status_code == 202
    buyer = bot.bind_web_chat("T-1")
    buyer.next_reply()
    olga = Person(bot, "olga")
    olga.act("T-1", "offer", percent="5")
    buyer.presses(buyer.next_reply(), "accept_offer")
    assert "19.00" in buyer.next_reply()["text"]

    open_tasks = wait_for(lambda: [t for t in olga.api("GET", "/api/v1/tasks?status=open").json()
                                   if t["kind"] == "adjust_price"])  # fmt: skip
    task = open_tasks[0]
    assert task["order_id"] == "T-1" and task["new_total"] == "19.00" and task["status"] == "open"
    assert Person(bot, "kim").api("GET", "/api/v1/tasks").json() == [], "not kim's conversation"
    assert httpx.get(f"{bot.url}/api/v1/tasks?status=open", headers=BEARER).json()[0]["id"] == task["id"]

    row = olga.page("/console/tasks?status=open").text.split(f'data-task="{task["id"]}"')[1].split("</tr>")[0]
    assert "Ann · " in row and "new total: 19.00" in row and "adjust price" in row
    done = olga.api("POST", f"/api/v1/tasks/{task['id']}/done")
    assert done.status_code == 200 and done.json()["done_by"] == "olga"
    again = httpx.post(f"{bot.url}/api/v1/tasks/{task['id']}/done", headers=BEARER)
    assert again.status_code == 409
    assert [t["id"] for t in olga.api("GET", "/api/v1/tasks?status=done").json()] == [task["id"]]
    assert task["id"] not in [t["id"] for t in olga.api("GET", "/api/v1/tasks?status=open").json()]
    assert "done by olga" in olga.page("/console/tasks?status=done").text
    assert olga.api("GET", "/api/v1/audit").json()[0]["action"] == "task_done"


def test_operators_manage_people_from_the_web(bot: BotProcess) -> None:
    olga = Person(bot, "olga")
    added = olga.client.post("/console/users", data={"csrf": olga.csrf(), "name": "max", "role": "agent"})
    assert added.status_code == 200
    password = added.text.split('<code id="new-password">')[1].split("</code>")[0]
    max_ = Person(bot, "max", password)
    assert max_.login_response.status_code == 303 and max_.page("/console").status_code == 200
    taken = olga.client.post("/console/users", data={"csrf": olga.csrf(), "name": "max", "role": "agent"})
    assert taken.status_code == 422 and "exists" in taken.text
    assert Person(bot, "kim").client.post("/console/users", data={"name": "eve", "role": "operator"}).status_code == 403

    disabled = olga.client.post("/console/users/max/disable", data={"csrf": olga.csrf("/console/users")})
    assert disabled.status_code == 200 and max_.page("/console").status_code == 303
    assert olga.client.post("/console/users/olga/disable", data={"csrf": olga.csrf()}).status_code == 409
    audit = olga.api("GET", "/api/v1/audit").json()
    actions = [(a["actor"], a["action"]) for a in audit if a["target"] == "max"]
    assert actions == [("olga", "user_disabled"), ("olga", "user_added")]
    assert "max\tagent\tdisabled" in users(bot, "list", password=None).stdout


def test_the_console_on_redis(tmp_path: Path, redis_server: RedisServer) -> None:
    redis_server.ensure_running()
    bot = BotProcess(tmp_path, store_url=f"{redis_server.url}?prefix=console{uuid.uuid4().hex[:6]}:",
                     policy=SLOW_POLICY).start()  # fmt: skip
    try:
        add_user(bot, "kim", "agent")
        assert bot.post_event(placed_event("R-1", first_order=False)).status_code == 202
        kim = Person(bot, "kim")
        assert kim.login_response.status_code == 303
        assert kim.act("R-1", "claim").status_code == 303
        assert wait_for(lambda: bot.order("R-1")["conversation"]["memory"].get("agent") == "kim")
        assert kim.api("GET", "/api/v1/inbox?view=mine").json()[0]["order_id"] == "R-1"
        assert users(bot, "disable", "kim", password=None).returncode == 0
        assert kim.page("/console").status_code == 303
    finally:
        bot.stop()
