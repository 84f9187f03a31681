"""Replays an order's life on a virtual clock through the real engine, store
and templates, and prints the transcript: the quickest way to see (and test)
what a buyer would get, and when."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bot.rendering import Renderer
from bot.storage import open_store
from bot.undelivered import no_channel
from dialogs.engine import DialogEngine
from dialogs.model import Inbound
from dialogs.policy import Policy, format_duration, parse_duration, policy_from_dict

START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # a Monday afternoon in Europe


class VirtualClock:
    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current


@dataclass
class Line:
    offset: timedelta
    author: str
    text: str
    buttons: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        head = f"[{_clock(self.offset)}] {self.author:>5}: "
        body = self.text.replace("\n", "\n" + " " * len(head))
        tail = f"\n{' ' * len(head)}[{' | '.join(self.buttons)}]" if self.buttons else ""
        return head + body + tail


def _clock(offset: timedelta) -> str:
    total = int(offset.total_seconds())
    days, rest = divmod(total, 86400)
    return f"+{days}d {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def load_scenario(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "order" not in data or "steps" not in data:
        raise ValueError(f"{path}: a scenario needs `order` and `steps`")
    return data


async def simulate(scenario: dict[str, Any], templates: Path, base_policy: dict[str, Any]) -> list[Line]:
    policy = policy_from_dict({**base_policy, **scenario.get("policy", {})})
    clock = VirtualClock(datetime.fromisoformat(scenario["start"]) if "start" in scenario else START)
    start = clock.current
    from dialogs.catalog import all_dialogs

    engine = DialogEngine(all_dialogs(), policy, clock)
    renderer = Renderer(templates)
    lines: list[Line] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(f"sqlite:///{tmp}/sim.sqlite3")
        try:
            run = _Run(store, engine, renderer, clock, policy, scenario, lines, start)
            await run.play(parse_duration(str(scenario.get("until", "7d")), "until"))
        finally:
            await store.close()
    return lines


@dataclass
class _Run:
    store: Any
    engine: DialogEngine
    renderer: Renderer
    clock: VirtualClock
    policy: Policy
    scenario: dict[str, Any]
    lines: list[Line]
    start: datetime
    counter: int = 0

    async def play(self, until: timedelta) -> None:
        steps = sorted(self.scenario["steps"], key=lambda s: parse_duration(str(s["at"]), "at"))
        order_id = self.scenario["order"]["order_id"]
        for step in steps:
            await self._timers_until(self.start + parse_duration(str(step["at"]), "at"))
            await self._step(order_id, step)
        await self._timers_until(self.start + until)

    async def _timers_until(self, moment: datetime) -> None:
        while True:
            due = [t for t in await self.store.timers() if t.due_at <= moment]
            if not due:
                self.clock.current = max(self.clock.current, moment)
                return
            timer = due[0]
            self.clock.current = max(self.clock.current, timer.due_at)
            payload = {"timer": timer.name, "due_at": timer.due_at.isoformat()}
            await self._handle(Inbound(timer.conversation_id, "follow_up_due", payload, f"t{self._n()}", timer.due_at))

    async def _step(self, order_id: str, step: dict[str, Any]) -> None:
        now = self.clock.current
        if "event" in step:
            data = self.scenario["order"] if step["event"] == "order.placed" else step.get("data", {})
            payload = {
                "type": step["event"],
                "order_id": order_id,
                "data": data,
                "occurred_at": now.isoformat(),
            }
            self._print("event", step["event"])
            await self._handle(Inbound(order_id, "order_event", payload, f"e{self._n()}", now))
        elif "says" in step:
            self._print("buyer", str(step["says"]))
            payload = {"text": str(step["says"]), "channel": "webchat", "address": "sim"}
            await self._handle(Inbound(order_id, "buyer_message", payload, f"m{self._n()}", now))
        elif "sends" in step:
            media = [{"kind": str(step["sends"]), "file_id": f"file-{self._n()}"}]
            self._print("buyer", f"({step['sends']}) {step.get('caption', '')}".strip())
            payload = {
                "media": media,
                "text": step.get("caption", ""),
                "channel": "webchat",
                "address": "sim",
            }
            await self._handle(Inbound(order_id, "buyer_message", payload, f"m{self._n()}", now))
        elif "agent" in step:
            trigger = f"agent_{step['agent']}"
            self._print("agent", f"({step['agent']}) {step.get('text', '')}".strip())
            payload = {"agent": "sim-agent", "text": step.get("text", "")}
            await self._handle(Inbound(order_id, trigger, payload, f"a{self._n()}", now))
        elif "presses" in step:
            conversation, _ = await self.store.load(order_id)
            self._print("buyer", f"(presses) {step['presses']}")
            payload = {"action": step["presses"], "dialog": conversation.dialog if conversation else "",
                       "channel": "webchat", "address": "sim"}  # fmt: skip
            await self._handle(Inbound(order_id, "button_pressed", payload, f"b{self._n()}", now))

    async def _handle(self, inbound: Inbound) -> None:
        await self.store.accept(inbound)
        change = await self.engine.handle(self.store, inbound)
        for message in change.outbox if change else []:
            text = self.renderer.text(message.template, message.language, message.context, "webchat")
            labels = [b.get("label") or self.renderer.label(b["action"], message.language) for b in message.buttons]
            if not message.channel or not message.address:  # never reaches the buyer: say so
                self._print("held", f"(not sent: {no_channel(message)})\n{text}", labels)
            else:
                self._print("bot", text, labels)
        for entry in change.transcript if change else []:
            if entry.author == "note" and entry.text.startswith("not sent ("):
                self._print("note", entry.text)
        for task in change.tasks if change else []:
            self._print("task", ", ".join(f"{k}={v}" for k, v in task.items() if k not in ("at", "source_id")))

    def _print(self, author: str, text: str, buttons: list[str] | None = None) -> None:
        self.lines.append(Line(self.clock.current - self.start, author, text, buttons or []))

    def _n(self) -> int:
        self.counter += 1
        return self.counter


def describe_policy(policy: Policy) -> str:
    unpaid = policy.unpaid
    rows = [
        ("order placed", timedelta(0)),
        ("payment help (first-time buyers)", unpaid.payment_help_after),
        ("hesitation nudge", unpaid.nudge_after),
        (
            f"{unpaid.discount_percent}% offer (max {unpaid.discount_max}) if the buyer is silent",
            unpaid.offer_after,
        ),
        ("abandoned if still silent", unpaid.offer_after + unpaid.abandon_after),
        (
            "offer or last reminder if the buyer answered and went quiet",
            unpaid.auto_close_after - unpaid.last_call_before,
        ),
        ("lost: the platform closes the unpaid order", unpaid.auto_close_after),
    ]
    out = ["Unpaid-order journey (from the moment the order is placed):"]
    out += [f"  +{format_duration(at):>6}  {label}" for label, at in rows]
    gentle = format_duration(unpaid.remind_after_answer)
    out.append(f"  a buyer who answers and goes quiet: a gentle reminder {gentle} after the answer")
    held = "wait for the morning" if policy.hold_event_messages else "go out at once"
    out.append(f"Quiet hours (buyer's local time): {policy.quiet_start:%H:%M}-{policy.quiet_end:%H:%M}; "
               f"event messages {held}")  # fmt: skip
    out.append(f"Follow-up steps keep at least {format_duration(policy.min_gap)} apart")
    days = ",".join(("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d] for d in sorted(policy.working_days))
    out.append(f"Working hours: {days} {policy.opens:%H:%M}-{policy.closes:%H:%M} {policy.store_timezone.key}")
    out += [
        f"Promotion: {p.name} {p.start[0]:02d}-{p.start[1]:02d}..{p.end[0]:02d}-{p.end[1]:02d}"
        for p in policy.promotions
    ]
    return "\n".join(out + _describe_guides(policy))


def _describe_guides(policy: Policy) -> list[str]:
    g, d = policy.guides, format_duration
    countries = ", ".join(f"{c} {d(v)}" for c, v in sorted(g.protection_by_country.items()))
    return [
        "Seller-guide rules:",
        f"  order confirmation: {'on' if g.confirmation else 'off'}",
        f"  transit: a note after {d(g.transit_update_after)} without news; after the ETA + {d(g.eta_grace)}"
        " an apology and a task to check the parcel",
        f"  buyer protection: {d(g.protection_default)} after shipping{f' ({countries})' if countries else ''};"
        f" task to extend the receipt time {d(g.protection_warn_before)} before it ends",
        f"  disputes without a date: {d(g.dispute_respond_within)} to respond",
        f"  after-sales: {d(g.aftersales_window)} after payment, seasonal items {d(g.seasonal_window)} after delivery",
        f"  returns: the buyer pays unconditional-return shipping after {g.free_returns_per_month} a month;"
        f" refund-only review at {g.refund_only_review_at} requests",
        f"  large orders: the nudge asks to pay early from {policy.unpaid.large_order_quantity} pieces",
    ]
