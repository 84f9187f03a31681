"""Every dialog the bot runs, and their state diagrams drawn from the machines
themselves (`python -m dialogs.catalog > docs/dialogs.md`)."""

from __future__ import annotations

import sys

from dialogs.base import Dialog
from dialogs.device_video import DeviceVideoDialog
from dialogs.out_of_stock import OutOfStockDialog
from dialogs.pickup import PickupDialog
from dialogs.shipping import ShippingDialog
from dialogs.unpaid import UnpaidJourney


def all_dialogs() -> list[Dialog]:
    return [UnpaidJourney(), OutOfStockDialog(), DeviceVideoDialog(), PickupDialog(), ShippingDialog()]


def diagrams_markdown() -> str:
    parts = [
        "# Dialogs",
        "",
        "Generated from the state machines by `python -m dialogs.catalog > docs/dialogs.md`;",
        "`tests/dialogs/test_diagrams.py` fails when this file and the machines disagree.",
        "Guards are in brackets. Follow-ups arrive as `<name>_due` triggers; buyer answers",
        "(buttons or typed text) as `answered_<intent>`.",
    ]
    for dialog in all_dialogs():
        doc = sys.modules[type(dialog).__module__].__doc__ or ""
        parts += ["", f"## {dialog.name}", "", " ".join(doc.split()), ""]
        parts += [f"Starts on: {', '.join(f'`{t}`' for t in dialog.starts_on)}. "
                  f"Follow-ups: {', '.join(f'`{t}`' for t in dialog.timers)}.", ""]  # fmt: skip
        parts += ["```mermaid", dialog.mermaid(), "```"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(diagrams_markdown(), end="")
