"""`buyerbot events import`: post events from a JSON-lines or CSV file to the
running bot's event API, so imports take exactly the same path as live events."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


@dataclass
class ImportReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        lines = [f"{self.accepted} accepted, {self.duplicates} duplicate(s), {len(self.rejected)} rejected"]
        return "\n".join(lines + [f"  {r}" for r in self.rejected])


def read_events(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, event) pairs; a string instead of an event is a parse error."""
    with path.open(encoding="utf-8", newline="") as handle:
        if path.suffix.lower() == ".csv":
            for number, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    yield number, {**row, "data": json.loads(row.get("data") or "{}")}
                except json.JSONDecodeError as exc:
                    yield number, f"column data is not JSON: {exc}"
            return
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, f"not JSON: {exc}"


def import_events(
    path: Path, base_url: str, token: str, *, transport: httpx.BaseTransport | None = None
) -> ImportReport:
    report = ImportReport()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30, transport=transport) as client:
        for number, event in read_events(path):
            if isinstance(event, str):
                report.rejected.append(f"line {number}: {event}")
                continue
            response = client.post("/api/v1/events", json=event)
            if response.status_code == 202:
                report.accepted += 1
            elif response.status_code == 200:
                report.duplicates += 1
            else:
                report.rejected.append(f"line {number}: HTTP {response.status_code} {response.text[:300]}")
    return report
