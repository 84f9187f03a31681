"""Logging set-up: text or one JSON object per line (BUYERBOT_LOG_FORMAT), the
`transitions` library's own lines kept to warnings unless BUYERBOT_LOG_LEVEL
is DEBUG, and one line per handled input naming its door, conversation and
order (logger `buyerbot.inputs`)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from dialogs.model import Commit

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: attributes every LogRecord has: the rest came in `extra=` and go into the JSON
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
inputs_log = logging.getLogger("buyerbot.inputs")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def setup_logging(level: str, style: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if style == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # about half of all lines at INFO were the state machines' own
    logging.getLogger("transitions").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def send_server_logs_to_root() -> None:
    """uvicorn configures handlers of its own: in JSON mode its lines go through ours."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True


async def log_input(change: Commit) -> None:
    """After each handled input (a runtime `on_commit` listener)."""
    if not inputs_log.isEnabledFor(logging.INFO):
        return
    conversation, source = change.conversation, change.inbound_source_id
    door = source.partition(":")[0]
    inputs_log.info(
        "input %s handled: conversation %s, order %s, %s/%s, %d message(s) out",
        source, conversation.id, conversation.order_id, conversation.dialog, conversation.state, len(change.outbox),
        extra={"door": door, "source_id": source, "conversation_id": conversation.id,
               "order_id": conversation.order_id, "dialog": conversation.dialog, "state": conversation.state,
               "ownership": str(conversation.ownership), "messages_out": len(change.outbox)},
    )  # fmt: skip
