"""The seller's tasks as people work them: every task the dialogs created
(price adjustments, replacement items, evidence bundles, lost orders, buyers
not reachable, hand-offs, ...), numbered by its place in the store's
append-only list, `open` or `done` with who and when."""

from __future__ import annotations

from typing import Any

from bot.storage.console_store import ConsoleStore
from dialogs.ports import Store

#: shown first on the tasks page: money waits on them
FIRST = ("adjust_price", "replace_item", "evidence_bundle", "answer_dispute", "order_lost")
#: the task's own field that says by when (the first one present)
DEADLINES = ("deadline", "respond_by", "pickup_deadline", "until")
STATUSES = ("open", "done", "all")


async def seller_tasks(store: Store, marks_store: ConsoleStore, status: str = "all") -> list[dict[str, Any]]:
    marks = await marks_store.task_marks()
    found = []
    for n, task in enumerate(await store.tasks(), start=1):
        task_id = str(n)
        mark = marks.get(task_id)
        entry = {
            **task,
            "id": task_id,
            "status": "done" if mark else "open",
            "done_by": mark["done_by"] if mark else None,
            "done_at": mark["done_at"] if mark else None,
        }
        if status in ("all", entry["status"]):
            found.append(entry)
    return found


def for_page(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open before done; price adjustments and the like first; oldest first."""

    def rank(task: dict[str, Any]) -> tuple[int, int, str]:
        kind = str(task.get("kind", ""))
        return (task["status"] != "open", FIRST.index(kind) if kind in FIRST else len(FIRST), str(task.get("at", "")))

    return sorted(tasks, key=rank)


async def visible_to(store: Store, who: str, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An agent's tasks: those of the conversations they have, or that name them."""
    owners: dict[str, str] = {}
    for conversation in await store.conversations():
        owners[conversation.id] = str(conversation.memory.get("agent") or "")
    return [t for t in tasks if t.get("assignee") == who or owners.get(str(t.get("conversation_id"))) == who]


def details_of(task: dict[str, Any]) -> dict[str, Any]:
    """The task's own facts, without the bookkeeping every task has."""
    skip = {"kind", "conversation_id", "at", "source_id", "id", "status", "done_by", "done_at", "order_id", "buyer",
            *DEADLINES}  # fmt: skip
    return {k: v for k, v in task.items() if k not in skip}


def deadline_of(task: dict[str, Any]) -> str | None:
    return next((str(task[k]) for k in DEADLINES if task.get(k)), None)


async def with_buyers(store: Store, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each task with the buyer's name of its order (for the page)."""
    names: dict[str, str] = {}
    for conversation_id in {str(t.get("conversation_id") or t.get("order_id") or "") for t in tasks} - {""}:
        _, order = await store.load(conversation_id)
        names[conversation_id] = (order.buyer.name or order.buyer.id) if order else ""
    return [{**t, "buyer": names.get(str(t.get("conversation_id") or t.get("order_id") or ""), "")} for t in tasks]
