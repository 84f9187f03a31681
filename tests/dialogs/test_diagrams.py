"""docs/dialogs.md shows each dialog's state machine as it really is."""

from __future__ import annotations

from pathlib import Path

from dialogs.catalog import all_dialogs, diagrams_markdown
from dialogs.unpaid import UnpaidJourney

DOC = Path(__file__).resolve().parents[2] / "docs" / "dialogs.md"


def test_docs_diagrams_match_the_machines() -> None:
    assert DOC.read_text(encoding="utf-8") == diagrams_markdown(), (
        "docs/dialogs.md is out of date: run `python -m dialogs.catalog > docs/dialogs.md`"
    )


def test_every_dialog_is_drawn_with_every_trigger() -> None:
    text = DOC.read_text(encoding="utf-8")
    for dialog in all_dialogs():
        assert f"## {dialog.name}" in text
        for trigger in dialog.machine.events:
            assert f": {trigger}" in text


def test_the_diagram_follows_a_changed_table() -> None:
    class Changed(UnpaidJourney):
        transitions = [
            *UnpaidJourney.transitions,
            {"trigger": "order_lost_again", "source": "lost", "dest": "paid"},
        ]

    assert "lost --> paid: order_lost_again" in Changed().mermaid()
    assert "order_lost_again" not in UnpaidJourney().mermaid()
