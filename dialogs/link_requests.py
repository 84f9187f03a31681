"""A second chat that proved an order by its number (and a non-public fact)
while the order already talks to someone: it is only *asked* for. The chat
already bound is told and may approve or refuse with a button; an agent may
approve too. Approval moves the conversation to the new chat; nothing else
does. Pure: the door stores nothing itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialogs.model import Button, Commit, TranscriptEntry

if TYPE_CHECKING:
    from dialogs.base import Turn

#: button actions, followed by ".<request id>"; short: Telegram callback data is 64 bytes
APPROVE, REFUSE = "lk_ok", "lk_no"
#: requests kept in the conversation's memory (older ones are dropped)
KEPT = 5


def is_link_action(action: str) -> bool:
    return action.partition(".")[0] in (APPROVE, REFUSE)


def moves_by_number(turn: Turn) -> bool:
    """A `buyer_bound` from the order-number path for a conversation bound elsewhere."""
    conversation, payload = turn.conversation, turn.payload
    if turn.inbound.trigger != "buyer_bound" or payload.get("via") != "order_number":
        return False
    claimant = (str(payload.get("channel")), str(payload.get("address")))
    return conversation.channel is not None and (conversation.channel, conversation.address) != claimant


def request_link(turn: Turn, change: Commit) -> None:
    """Note the request and ask the chat already bound; the conversation does not move."""
    conversation, payload = turn.conversation, turn.payload
    requests: dict[str, dict[str, str]] = conversation.memory.setdefault("link_requests", {})
    request = str(payload.get("request") or turn.inbound.source_id[-4:])
    requests[request] = {"channel": str(payload["channel"]), "address": str(payload["address"]),
                         "at": turn.now.isoformat(), "state": "asked"}  # fmt: skip
    for old in list(requests)[:-KEPT]:
        del requests[old]
    note = f"a {payload['channel']} chat proved the order number; link request {request} waits for approval"
    change.transcript.append(TranscriptEntry(conversation.id, turn.now, "note", note))
    # the team sees it among its tasks and may answer for the buyer (POST .../link-requests/{request}/approve)
    turn.task("link_request", request=request, via=str(payload["channel"]))
    turn.say("common/link_requested", [Button(f"{APPROVE}.{request}"), Button(f"{REFUSE}.{request}")],
             via=str(payload["channel"]))  # fmt: skip


def answer_link(turn: Turn, change: Commit, action: str, by: str) -> None:
    """The bound chat (or an agent) approved or refused request `action`'s id."""
    conversation = turn.conversation
    kind, _, request = action.partition(".")
    entry = conversation.memory.get("link_requests", {}).get(request)
    if entry is None or entry.get("state") != "asked":
        turn.say("common/stale_button")
        return
    approved = kind == APPROVE
    entry["state"] = "approved" if approved else "refused"
    entry["by"] = by
    verdict = "approved" if approved else "refused"
    note = f"link request {request} {verdict} by {by}"
    change.transcript.append(TranscriptEntry(conversation.id, turn.now, "note", note))
    if not approved:
        turn.say("common/link_refused")
        return
    conversation.channel, conversation.address = entry["channel"], entry["address"]
    conversation.unreachable = False
    welcomed = conversation.memory.setdefault("welcomed_on", [])
    if entry["channel"] not in welcomed:
        welcomed.append(entry["channel"])
    turn.say("common/welcome_bound", ["talk_to_person"])


def attempts_exceeded(turn: Turn, change: Commit) -> None:
    """The order-number path was closed for this order: a task for the team."""
    payload = turn.payload
    failures, until = payload.get("failures"), payload.get("until")
    turn.task("binding_locked", failures=failures, until=until)
    note = f"order-number binding closed after {failures} failed tries (until {until}); check who is asking"
    change.transcript.append(TranscriptEntry(turn.conversation.id, turn.now, "note", note))
