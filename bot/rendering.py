"""Turning an outbox message into text and buttons: the Jinja2 template in the
buyer's language (falling back to English), channel overrides, button labels
from `<locale>/buttons.toml`. Values are data: buyer text is never a template."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateNotFound

from dialogs.model import OutboxMessage, supported_language
from dialogs.ports import Capabilities, RenderedMessage

FALLBACK = "en"
#: Telegram's 64 bytes, less its channel's 3-byte prefix (`telegram_send.CALLBACK_PREFIX`)
CALLBACK_LIMIT = 61


def callback_data(action: str, dialog: str, conversation_id: str) -> str:
    data = f"{action}:{dialog}:{conversation_id}"
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {data!r}")
    return data


def parse_callback(data: str) -> tuple[str, str, str] | None:
    parts = data.split(":", 2)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 and all(parts) else None


def normalise_language(language: str | None) -> str:
    return supported_language(language) or FALLBACK


class Renderer:
    def __init__(self, templates: Path) -> None:
        self.root = templates
        self.env = Environment(
            loader=FileSystemLoader(str(templates)),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # templates change with a deploy (a restart), not while running:
            # no disk check per message
            auto_reload=False,
        )
        self._chosen: dict[tuple[str, str, str], Template] = {}

    def text(self, template: str, language: str, context: dict[str, Any], channel: str = "") -> str:
        return self._template(normalise_language(language), template, channel).render(context).strip()

    def _template(self, language: str, template: str, channel: str) -> Template:
        """The most specific template for this language and channel, looked up once."""
        key = (language, template, channel)
        found = self._chosen.get(key)
        if found is None:
            candidates = [f"{language}/{template}.{channel}.j2", f"{language}/{template}.j2"]
            if language != FALLBACK:
                candidates += [f"{FALLBACK}/{template}.{channel}.j2", f"{FALLBACK}/{template}.j2"]
            names = [c for c in candidates if ".." not in c and not c.startswith(".")]
            try:
                found = self._chosen[key] = self.env.select_template(names)
            except TemplateNotFound:
                raise LookupError(f"no template {template!r} (looked for {names})") from None
        return found

    def label(self, action: str, language: str) -> str:
        labels = _labels(self.root, normalise_language(language))
        fallback = _labels(self.root, FALLBACK)
        if action in labels:
            return labels[action]
        if action in fallback:
            return fallback[action]
        raise LookupError(f"no button label for {action!r} in buttons.toml")

    def render(self, message: OutboxMessage, channel: str, capabilities: Capabilities) -> RenderedMessage:
        text = self.text(message.template, message.language, message.context, channel)
        buttons = tuple(
            (
                callback_data(b["action"], b.get("dialog") or "common", message.conversation_id),
                # "lk_ok.ab12": the label of "lk_ok" (the suffix names what it answers)
                b.get("label") or self.label(b["action"].partition(".")[0], message.language),
                b.get("url"),
            )
            for b in message.buttons
        )
        if buttons and not capabilities.buttons:
            lines = [f"{i}. {label}" for i, (_, label, _) in enumerate(buttons, 1)]
            return RenderedMessage("\n".join([text, "", *lines]), (), message.id)
        return RenderedMessage(text, buttons, message.id)


@lru_cache(maxsize=16)
def _labels(root: Path, language: str) -> dict[str, str]:
    path = root / language / "buttons.toml"
    if not path.exists():
        return {}
    return {str(k): str(v) for k, v in tomllib.loads(path.read_text(encoding="utf-8")).items()}


def split_text(text: str, limit: int) -> list[str]:
    """Split at paragraph, line or word boundaries so no part exceeds `limit`."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return parts
