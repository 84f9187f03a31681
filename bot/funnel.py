"""What the unpaid journey earns: for the unpaid orders placed in a date range,
how many were paid without a message, after which journey step (the last one
they received before paying), lost, cancelled; the revenue of the orders paid
after a message and the discounts given, per currency; the same per language
and channel; and the control group against the treated orders with the
uplift's 95 % confidence interval."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from dialogs.experiment import CONTROL
from dialogs.model import Conversation, Order, OutboxMessage, OutboxStatus
from dialogs.ports import Store

#: the journey's messages, by template, in their order
STEPS = {"unpaid/payment_help": "payment_help", "unpaid/nudge": "nudge", "unpaid/offer": "offer"}
Z95 = 1.959964


@dataclass
class Counts:
    orders: int = 0
    paid_without_message: int = 0
    paid_after: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STEPS.values(), 0))
    reached: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STEPS.values(), 0))
    lost: int = 0
    cancelled: int = 0
    revenue_recovered: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    discount_cost: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def to_dict(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "paid_without_message": self.paid_without_message,
            "paid_after": dict(self.paid_after),
            "reached": dict(self.reached),
            "lost": self.lost,
            "cancelled": self.cancelled,
            "revenue_recovered": {
                c: str(v.quantize(Decimal("0.01"))) for c, v in sorted(self.revenue_recovered.items())
            },
            "discount_cost": {c: str(v.quantize(Decimal("0.01"))) for c, v in sorted(self.discount_cost.items())},
        }


@dataclass
class Outcome:
    """One order's path through the journey."""

    order: Order
    conversation: Conversation
    day: date
    steps: list[str]
    paid_after: str | None
    paid: bool
    lost: bool
    cancelled: bool
    discount: Decimal

    def add_to(self, counts: Counts) -> None:
        counts.orders += 1
        for step in set(self.steps):
            counts.reached[step] += 1
        currency = self.order.currency
        if self.paid and self.paid_after:
            counts.paid_after[self.paid_after] += 1
            counts.revenue_recovered[currency] += _money(self.order.total_amount)
        elif self.paid:
            counts.paid_without_message += 1
        counts.lost += self.lost
        counts.cancelled += self.cancelled
        if self.paid and self.discount:
            counts.discount_cost[currency] += self.discount


def outcome_of(
    conversation: Conversation, order: Order, messages: list[OutboxMessage], discount: Decimal, tz: ZoneInfo
) -> Outcome | None:
    """None for an order that was never unpaid (paid before it was placed, or never placed)."""
    if order.placed_at is None or (order.paid_at is not None and order.paid_at <= order.placed_at):
        return None
    paid_by = order.paid_at or datetime.max.replace(tzinfo=order.placed_at.tzinfo)
    sent = sorted(
        (m for m in messages if m.template in STEPS and m.status is OutboxStatus.SENT and m.created_at < paid_by),
        key=lambda m: m.created_at,
    )
    steps = [STEPS[m.template] for m in sent]
    paid = order.paid_at is not None
    return Outcome(
        order=order,
        conversation=conversation,
        day=order.placed_at.astimezone(tz).date(),
        steps=steps,
        paid_after=steps[-1] if paid and steps else None,
        paid=paid,
        lost=not paid and conversation.dialog == "unpaid" and conversation.state == "lost",
        cancelled=not paid and order.status == "cancelled",
        discount=discount,
    )


async def outcomes(store: Store, start: date, end: date, tz: ZoneInfo) -> list[Outcome]:
    discounts: dict[str, Decimal] = {}
    for task in await store.tasks():
        if task.get("kind") == "adjust_price":
            discounts[str(task.get("order_id") or task.get("conversation_id"))] = _money(task.get("discount"))
    found = []
    for conversation in await store.conversations():
        if conversation.id != conversation.order_id:
            continue
        _, order = await store.load(conversation.id)
        if order is None or order.placed_at is None:
            continue
        if not start <= order.placed_at.astimezone(tz).date() <= end:
            continue
        messages = await store.outbox_for(conversation.id)
        outcome = outcome_of(conversation, order, messages, discounts.get(order.order_id, Decimal(0)), tz)
        if outcome is not None:
            found.append(outcome)
    return found


def funnel(found: list[Outcome], start: date, end: date) -> dict[str, Any]:
    total = Counts()
    by_language: dict[str, Counts] = defaultdict(Counts)
    by_channel: dict[str, Counts] = defaultdict(Counts)
    groups = {"control": [0, 0], "treated": [0, 0]}
    daily: dict[date, dict[str, int]] = {}
    for outcome in found:
        outcome.add_to(total)
        language = outcome.order.buyer.language or outcome.conversation.language or "unknown"
        outcome.add_to(by_language[language])
        outcome.add_to(by_channel[outcome.conversation.channel or "none"])
        group = groups["control" if outcome.conversation.memory.get("experiment") == CONTROL else "treated"]
        group[0] += 1
        group[1] += outcome.paid
        day = daily.setdefault(outcome.day, {"orders": 0, "paid_after_message": 0, "paid_without_message": 0})
        day["orders"] += 1
        if outcome.paid:
            day["paid_after_message" if outcome.paid_after else "paid_without_message"] += 1
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        **total.to_dict(),
        "by_language": {k: v.to_dict() for k, v in sorted(by_language.items())},
        "by_channel": {k: v.to_dict() for k, v in sorted(by_channel.items())},
        "control": {"orders": groups["control"][0], "paid": groups["control"][1]},
        "treated": {"orders": groups["treated"][0], "paid": groups["treated"][1]},
        "uplift": uplift(*groups["treated"], *groups["control"]),
        "daily": [{"day": d.isoformat(), **counts} for d, counts in sorted(daily.items())],
    }


def uplift(treated_orders: int, treated_paid: int, control_orders: int, control_paid: int) -> dict[str, Any] | None:
    """Paid rate of treated minus control, with a 95 % (Wald) interval; None
    until both groups have orders."""
    if not treated_orders or not control_orders:
        return None
    rate_t, rate_c = treated_paid / treated_orders, control_paid / control_orders
    error = math.sqrt(rate_t * (1 - rate_t) / treated_orders + rate_c * (1 - rate_c) / control_orders)
    difference = rate_t - rate_c
    return {
        "treated_rate": round(rate_t, 4),
        "control_rate": round(rate_c, 4),
        "difference": round(difference, 4),
        "ci95": [round(difference - Z95 * error, 4), round(difference + Z95 * error, 4)],
    }


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except InvalidOperation:
        return Decimal(0)
