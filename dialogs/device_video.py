"""A device that does not work: collect a short video of the problem and a
photo of the item with its outer packaging, ask again for what is missing,
then hand the evidence to a person; a dispute's deadline escalates early."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from dialogs.base import Dialog, DialogModel, Turn
from dialogs.handoff import hand_off
from dialogs.model import parse_time

VIDEO_HOSTS = re.compile(
    r"https?://(?:www\.|m\.)?(?:youtube\.com|youtu\.be|drive\.google\.com|vimeo\.com|dropbox\.com|"
    r"tiktok\.com|disk\.yandex\.\w+|1drv\.ms|onedrive\.live\.com|icloud\.com|streamable\.com)/\S*",
    re.IGNORECASE,
)
ANY_LINK = re.compile(r"https?://\S+", re.IGNORECASE)


class DeviceState(StrEnum):
    AWAITING_EVIDENCE = "awaiting_evidence"
    CONFIRMING_PACKAGING = "confirming_packaging"
    EVIDENCE_COMPLETE = "evidence_complete"
    ESCALATED = "escalated"
    CLOSED = "closed"


class DeviceModel(DialogModel):
    @property
    def evidence(self) -> dict[str, Any]:
        return self.turn.conversation.memory.setdefault(
            "evidence", {"videos": [], "photos": [], "links": [], "packaging": False}
        )

    # conditions
    def not_working(self) -> bool:
        reason = self.turn.order.facts.get("aftersales.opened", {}).get("reason")
        return self.turn.inbound.trigger != "order_event" or reason == "not_working"

    def complete(self) -> bool:
        ev = self.evidence
        return bool(ev["videos"]) and bool(ev["photos"]) and bool(ev["packaging"])

    def photo_arrived(self) -> bool:
        return any(m.get("kind") == "photo" or str(m.get("mime_type", "")).startswith("image/") for m in self._media())

    # callbacks
    def ask_for_evidence(self) -> None:
        self.turn.say("device_video/ask_evidence", ["talk_to_person"])
        self._plan_reminders()

    def hand_off_problem(self) -> None:
        reason = self.turn.order.facts.get("aftersales.opened", {}).get("reason", "other")
        hand_off(self.turn, f"aftersales_{reason}")

    def collect(self) -> None:
        ev, text = self.evidence, str(self.turn.payload.get("text") or "")
        for item in self._media():
            kind, mime = item.get("kind"), str(item.get("mime_type", ""))
            if kind == "video" or mime.startswith("video/"):
                ev["videos"].append(item.get("file_id"))
            elif kind == "photo" or mime.startswith("image/"):
                ev["photos"].append(item.get("file_id"))
        for link in ANY_LINK.findall(text):
            (ev["videos"] if VIDEO_HOSTS.match(link) else ev["links"]).append(link)
        self.turn.order.facts["evidence"] = ev  # the evidence stays with the order

    def ask_packaging(self) -> None:
        self.turn.say("device_video/packaging_question", ["packaging_shown", "packaging_missing"])

    def say_missing(self) -> None:
        ev, text = self.evidence, str(self.turn.payload.get("text") or "")
        bad_link = any(not VIDEO_HOSTS.match(link) for link in ANY_LINK.findall(text))
        self.turn.say("device_video/missing", ["talk_to_person"], need_video=not ev["videos"],
                      need_photo=not ev["photos"] or not ev["packaging"], bad_link=bad_link)  # fmt: skip

    def packaging_confirmed(self) -> None:
        self.evidence["packaging"] = True
        self.turn.order.facts["evidence"] = self.evidence  # the order's copy says so too

    def packaging_missing(self) -> None:
        self.evidence["photos"] = []
        self.turn.say("device_video/missing", ["talk_to_person"], need_video=not self.evidence["videos"],
                      need_photo=True, bad_link=False)  # fmt: skip

    def send_bundle(self) -> None:
        self.turn.cancel(*DeviceVideoDialog.timers)
        self.turn.say("device_video/thanks_evidence")
        self.turn.task("evidence_bundle", order_id=self.turn.order.order_id, **self.evidence)
        hand_off(self.turn, "device_evidence", quietly=True)

    def remind(self) -> None:
        self.say_missing()

    def escalate(self) -> None:
        self.turn.task("evidence_bundle", order_id=self.turn.order.order_id, **self.evidence)
        hand_off(self.turn, "device_evidence_incomplete")

    def plan_dispute_escalation(self) -> None:
        respond_by = parse_time(self.turn.order.facts.get("dispute.opened", {}).get("respond_by"))
        margin = self.turn.policy.timing("device_video.dispute_margin", "2d")
        if respond_by is None or respond_by - margin <= self.turn.now:
            self.escalate()
        else:
            self.turn.schedule("agent", min(respond_by - margin, self._agent_due()), urgent=True)

    def _plan_reminders(self) -> None:
        policy = self.turn.policy
        self.turn.schedule_in("reminder", policy.timing("device_video.reminder_after", "24h"))
        self.turn.schedule("agent", self._agent_due())

    def _agent_due(self) -> datetime:
        due = self.turn.conversation.memory.get("timers", {}).get("agent")
        if due:
            return datetime.fromisoformat(due)
        return self.turn.now + self.turn.policy.timing("device_video.agent_after", "48h")

    def _media(self) -> list[dict[str, Any]]:
        return list(self.turn.payload.get("media") or [])

    def stop(self) -> None:
        self.turn.cancel(*DeviceVideoDialog.timers)


S = DeviceState
_COLLECTING = [S.AWAITING_EVIDENCE, S.CONFIRMING_PACKAGING]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "aftersales_opened", "source": S.AWAITING_EVIDENCE, "dest": None,
     "conditions": "not_working", "after": "ask_for_evidence"},
    {"trigger": "aftersales_opened", "source": S.AWAITING_EVIDENCE, "dest": S.ESCALATED,
     "after": "hand_off_problem"},
    {"trigger": "answered_not_working", "source": S.AWAITING_EVIDENCE, "dest": None, "after": "ask_for_evidence"},
    {"trigger": "evidence_sent", "source": _COLLECTING, "dest": S.CONFIRMING_PACKAGING,
     "prepare": "collect", "conditions": "photo_arrived", "after": "ask_packaging"},
    {"trigger": "evidence_sent", "source": _COLLECTING, "dest": S.EVIDENCE_COMPLETE,
     "conditions": "complete", "after": "send_bundle"},
    {"trigger": "evidence_sent", "source": _COLLECTING, "dest": S.AWAITING_EVIDENCE, "after": "say_missing"},
    {"trigger": "answered_packaging_shown", "source": S.CONFIRMING_PACKAGING, "dest": S.EVIDENCE_COMPLETE,
     "prepare": "packaging_confirmed", "conditions": "complete", "after": "send_bundle"},
    {"trigger": "answered_packaging_shown", "source": S.CONFIRMING_PACKAGING, "dest": S.AWAITING_EVIDENCE,
     "after": "say_missing"},
    {"trigger": "answered_packaging_missing", "source": S.CONFIRMING_PACKAGING, "dest": S.AWAITING_EVIDENCE,
     "after": "packaging_missing"},
    {"trigger": "reminder_due", "source": _COLLECTING, "dest": None, "after": "remind"},
    {"trigger": "agent_due", "source": _COLLECTING, "dest": S.ESCALATED, "after": "escalate"},
    {"trigger": "dispute_opened", "source": _COLLECTING, "dest": None, "after": "plan_dispute_escalation"},
    {"trigger": "order_cancelled", "source": list(S), "dest": S.CLOSED, "after": "stop"},
]  # fmt: skip


class DeviceVideoDialog(Dialog):
    name = "device_video"
    states = DeviceState
    initial = S.AWAITING_EVIDENCE
    final = frozenset({S.CLOSED})
    transitions = TRANSITIONS
    model = DeviceModel
    starts_on = ("aftersales_opened", "answered_not_working")
    timers = ("reminder", "agent")

    def may_start(self, turn: Turn) -> bool:
        return turn.order.status not in ("placed", "cancelled")
