"""Pure WhatsApp Cloud API shapes: rendered messages to request bodies (text,
reply buttons, list), approved-template lookup, and API errors to SendResults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.rendering import split_text
from dialogs.ports import RenderedMessage, SendResult

MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_REPLY_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
#: the 24-hour customer-service window is closed (re-engagement message)
REENGAGEMENT = 131047
RATE_LIMITS = {130429: 1.0, 131056: 6.0, 4: 60.0, 80007: 60.0}
UNREACHABLE = {131026, 131030, 131021}
BAD_TOKEN = 190


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build_payloads(message: RenderedMessage, menu: str) -> list[dict[str, Any]]:
    """The request bodies (without `to`) that deliver one rendered message."""
    text = message.text
    links = [f"{label}: {url}" for _, label, url in message.buttons if url]
    if links:
        text = "\n\n".join([text, "\n".join(links)]) if text else "\n".join(links)
    replies = [(data, label) for data, label, url in message.buttons if not url][:MAX_ROWS]
    if not replies:
        return [_text(part) for part in split_text(text, MAX_TEXT)]
    if len(text) <= MAX_INTERACTIVE_BODY and text:
        return [_interactive(text, replies, menu)]
    return [*(_text(part) for part in split_text(text, MAX_TEXT) if part), _interactive(menu, replies, menu)]


def _text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body, "preview_url": "http" in body}}


def _interactive(body: str, replies: list[tuple[str, str]], menu: str) -> dict[str, Any]:
    if len(replies) <= MAX_REPLY_BUTTONS:
        buttons = [{"type": "reply", "reply": {"id": data, "title": clip(label, MAX_BUTTON_TITLE)}}
                   for data, label in replies]  # fmt: skip
        action: dict[str, Any] = {"buttons": buttons}
        kind = "button"
    else:
        rows = [_row(data, label) for data, label in replies]
        action = {
            "button": clip(menu, MAX_BUTTON_TITLE),
            "sections": [{"title": clip(menu, 24), "rows": rows}],
        }
        kind = "list"
    return {"type": "interactive", "interactive": {"type": kind, "body": {"text": body}, "action": action}}


def _row(data: str, label: str) -> dict[str, Any]:
    row: dict[str, Any] = {"id": data, "title": clip(label, MAX_ROW_TITLE)}
    if len(label) > MAX_ROW_TITLE:
        row["description"] = clip(label, MAX_ROW_DESCRIPTION)
    return row


@dataclass(frozen=True)
class ApprovedTemplate:
    name: str
    language: str
    params: tuple[str, ...]


def approved_template(policy_raw: dict[str, Any], template: str, language: str) -> ApprovedTemplate | None:
    """`[whatsapp.templates."unpaid/nudge"]` name, language, params and per-language overrides."""
    entry = policy_raw.get("whatsapp", {}).get("templates", {}).get(template)
    if not isinstance(entry, dict) or not entry.get("name"):
        return None
    name, code = str(entry["name"]), str(entry.get("language", "en"))
    override = entry.get("languages", {}).get(language)
    if isinstance(override, str):
        code = override
    elif isinstance(override, dict):
        name, code = str(override.get("name", name)), str(override.get("language", language))
    params = tuple(str(p) for p in entry.get("params", ("buyer_name", "order_id")))
    return ApprovedTemplate(name, code, params)


def template_payload(template: ApprovedTemplate, values: dict[str, Any]) -> dict[str, Any]:
    missing = [p for p in template.params if values.get(p) in (None, "")]
    if missing:
        raise KeyError(f"template {template.name} needs {', '.join(missing)}")
    body = {"type": "body", "parameters": [{"type": "text", "text": str(values[p])} for p in template.params]}
    spec: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if template.params:
        spec["components"] = [body]
    return {"type": "template", "template": spec}


def classify(status: int, body: Any, retry_after_header: str | None = None) -> SendResult:
    """One Graph API answer as a SendResult the sender understands."""
    if 200 <= status < 300:
        messages = body.get("messages") if isinstance(body, dict) else None
        wamid = messages[0].get("id") if isinstance(messages, list) and messages else None
        return SendResult(ok=True, channel_message_id=wamid)
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    text = f"WhatsApp {status}/{code}: {error.get('message') or 'no error body'}"
    extra = {"code": code, "status": status}
    if code == REENGAGEMENT:
        return SendResult(ok=False, held=True, error=f"outside the 24-hour window ({text})", extra=extra)
    if code in RATE_LIMITS or status == 429:
        wait = _seconds(retry_after_header) or RATE_LIMITS.get(code or 0, 2.0)
        return SendResult(ok=False, retry_after=wait, error=text, extra=extra)
    if code == BAD_TOKEN or status == 401:
        error = f"the access token was rejected, check BUYERBOT_WHATSAPP_TOKEN ({text})"
        return SendResult(ok=False, permanent=True, error=error, extra={**extra, "channel_fault": True})
    if code in UNREACHABLE:
        return SendResult(ok=False, permanent=True, error=f"the buyer cannot be reached ({text})", extra=extra)
    return SendResult(ok=False, error=text, extra=extra)  # 5xx and the unknown: retried with backoff


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value), 0.5) if value else None
    except ValueError:
        return None
