"""Evidence for an after-sales problem before a person looks at it: a device
that does not work needs a short video of the problem and a photo of the item
with its outer packaging; an item that arrived damaged (a scratch, a crack, a
dent) needs photos of the damage and of the outer packaging. What is missing is
asked for again, then the evidence goes to a person; a dispute goes to a
person at once with whatever has arrived so far."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from dialogs.base import Dialog, DialogModel, Turn
from dialogs.handoff import hand_off

VIDEO_HOSTS = re.compile(
    r"https?://(?:www\.|m\.)?(?:youtube\.com|youtu\.be|drive\.google\.com|vimeo\.com|dropbox\.com|"
    r"tiktok\.com|disk\.yandex\.\w+|1drv\.ms|onedrive\.live\.com|icloud\.com|streamable\.com)/\S*",
    re.IGNORECASE,
)
ANY_LINK = re.compile(r"https?://\S+", re.IGNORECASE)
#: after-sales reasons the dialog gathers evidence for; other reasons go to a person at once
EVIDENCE_FOR = ("not_working", "damaged")


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

    @property
    def damaged(self) -> bool:
        """Damage is shown on photos; a video is only needed when it does not work."""
        return bool(self.turn.conversation.memory.get("evidence_for") == "damaged")

    # conditions
    def reported_with_evidence(self) -> bool:
        """`aftersales.opened` for a problem the dialog gathers evidence for
        (any other reason goes to a person straight away)."""
        return self._collect_for(str(self.turn.order.facts.get("aftersales.opened", {}).get("reason")))

    def says_not_working(self) -> bool:
        return self._collect_for("not_working")

    def says_damaged(self) -> bool:
        return self._collect_for("damaged")

    def _collect_for(self, kind: str) -> bool:
        if kind not in EVIDENCE_FOR:
            return False
        self.turn.conversation.memory["evidence_for"] = kind
        return True

    def complete(self) -> bool:
        ev = self.evidence
        return (self.damaged or bool(ev["videos"])) and bool(ev["photos"]) and bool(ev["packaging"])

    def photo_arrived(self) -> bool:
        return any(m.get("kind") == "photo" or str(m.get("mime_type", "")).startswith("image/") for m in self._media())

    # callbacks
    def ask_for_evidence(self) -> None:
        template = "device_video/ask_damage_photos" if self.damaged else "device_video/ask_evidence"
        self.turn.say(template, ["talk_to_person"])
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
        self.turn.say("device_video/missing", ["talk_to_person"], need_video=not ev["videos"] and not self.damaged,
                      need_photo=not ev["photos"] or not ev["packaging"], bad_link=bad_link,
                      damaged=self.damaged)  # fmt: skip

    def packaging_confirmed(self) -> None:
        self.evidence["packaging"] = True
        self.turn.order.facts["evidence"] = self.evidence  # the order's copy says so too

    def packaging_missing(self) -> None:
        self.evidence["photos"] = []
        self.turn.say("device_video/missing", ["talk_to_person"], bad_link=False, damaged=self.damaged,
                      need_video=not self.evidence["videos"] and not self.damaged, need_photo=True)  # fmt: skip

    def send_bundle(self) -> None:
        self.turn.cancel(*DeviceVideoDialog.timers)
        self.turn.say("device_video/thanks_evidence", damaged=self.damaged)
        self._bundle(complete=True)
        hand_off(self.turn, "damage_evidence" if self.damaged else "device_evidence", quietly=True)

    def remind(self) -> None:
        self.say_missing()

    def escalate(self) -> None:
        self._bundle(complete=False)
        hand_off(self.turn, "device_evidence_incomplete")

    def escalate_dispute(self) -> None:
        """A dispute has a response deadline: a person now, with what has arrived."""
        self.turn.cancel(*DeviceVideoDialog.timers)
        self._bundle(complete=False)
        hand_off(self.turn, "dispute")

    def _bundle(self, *, complete: bool) -> None:
        self.turn.task("evidence_bundle", order_id=self.turn.order.order_id, damaged=self.damaged,
                       complete=complete, **self.evidence)  # fmt: skip

    def _plan_reminders(self) -> None:
        policy = self.turn.policy
        self.turn.schedule_in("reminder", policy.timing("device_video.reminder_after", "24h"))
        self.turn.schedule("agent", self._agent_due(), internal=True)

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
     "conditions": "reported_with_evidence", "after": "ask_for_evidence"},
    {"trigger": "aftersales_opened", "source": S.AWAITING_EVIDENCE, "dest": S.ESCALATED,
     "after": "hand_off_problem"},
    {"trigger": "answered_not_working", "source": S.AWAITING_EVIDENCE, "dest": None,
     "conditions": "says_not_working", "after": "ask_for_evidence"},
    {"trigger": "answered_damaged_item", "source": S.AWAITING_EVIDENCE, "dest": None,
     "conditions": "says_damaged", "after": "ask_for_evidence"},
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
    {"trigger": "dispute_opened", "source": _COLLECTING, "dest": S.ESCALATED, "after": "escalate_dispute"},
    {"trigger": "order_cancelled", "source": list(S), "dest": S.CLOSED, "after": "stop"},
]  # fmt: skip


class DeviceVideoDialog(Dialog):
    name = "device_video"
    states = DeviceState
    initial = S.AWAITING_EVIDENCE
    final = frozenset({S.CLOSED})
    outcomes = frozenset({S.EVIDENCE_COMPLETE, S.ESCALATED})
    transitions = TRANSITIONS
    model = DeviceModel
    starts_on = ("aftersales_opened", "answered_not_working", "answered_damaged_item")
    timers = ("reminder", "agent")

    def may_start(self, turn: Turn) -> bool:
        return turn.order.status not in ("placed", "cancelled")
