"""The console's HTML: Jinja2 pages from `templates/en/console/` (autoescaped,
no inline script: JS and CSS are static files of the package under
`/static/`), and times shown in the reader's own zone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from babel import Locale
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from dialogs.calendar import buyer_timezone
from dialogs.locale_text import money
from dialogs.model import parse_time

if TYPE_CHECKING:
    from bot.api.console_auth import Principal


def zone_of(principal: Principal | None, store_tz: ZoneInfo) -> ZoneInfo:
    if principal is not None and principal.timezone:
        return buyer_timezone(None, principal.timezone)
    return store_tz


STAFF_LOCALE: Final = Locale.parse("en")


class Pages:
    def __init__(self, templates: Path, store_tz: ZoneInfo) -> None:
        self.store_tz = store_tz
        self.env = Environment(
            loader=FileSystemLoader(str(templates / "en" / "console")),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # amounts as the console's English writes them: "$49.90", "€12.00" (Babel's CLDR data)
        self.env.filters["money"] = lambda value, currency: money(value, currency, STAFF_LOCALE)

    def render(self, page: str, principal: Principal | None, code: int = 200, **context: Any) -> HTMLResponse:
        tz = zone_of(principal, self.store_tz)

        def local(value: datetime | str | None, fmt: str = "%a %d %b %H:%M") -> str:
            """A moment in the reader's zone; a date or any other text as it is."""
            try:
                at = parse_time(value) if isinstance(value, str) else value
            except ValueError:
                return str(value)
            if at is None:
                return ""
            if at.tzinfo is None:
                return str(value)  # a day, not a moment
            return at.astimezone(tz).strftime(fmt)

        html = self.env.get_template(page).render(me=principal, tz=str(tz), local=local, **context)
        return HTMLResponse(html, status_code=code)
