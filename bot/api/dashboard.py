"""The funnel: `GET /api/v1/stats/funnel?from=YYYY-MM-DD&to=YYYY-MM-DD` (an
operator or the API token) and the page `/console/funnel` that draws it.
Dates are days in the store's time zone; the default is the last 30 days."""

from datetime import date, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from bot.accounts import Role
from bot.api.console_auth import ConsoleAuth, Principal
from bot.api.console_pages import Pages
from bot.charts import daily_columns, horizontal_bars
from bot.funnel import funnel, outcomes
from bot.runtime import Runtime

DATE = r"^\d{4}-\d{2}-\d{2}$"
MAX_DAYS = 366
DAILY_KEYS = ("paid_after_message", "paid_without_message", "unpaid")


def _invalid(field: str, message: str) -> HTTPException:
    """A 422 in the shape of FastAPI's own validation errors (the OpenAPI document's)."""
    return HTTPException(422, [{"loc": ["query", field], "msg": message, "type": "value_error"}])


def date_range(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    try:
        last = date.fromisoformat(end) if end else today
    except ValueError:
        raise _invalid("to", "a date: YYYY-MM-DD") from None
    try:
        first = date.fromisoformat(start) if start else last - timedelta(days=29)
    except ValueError:
        raise _invalid("from", "a date: YYYY-MM-DD") from None
    if first > last or (last - first).days >= MAX_DAYS:
        raise _invalid("from", f"not after `to`, and at most {MAX_DAYS} days before it")
    return first, last


def dashboard_router(runtime: Runtime, auth: ConsoleAuth, pages: Pages, tz: ZoneInfo) -> APIRouter:
    router = APIRouter()
    api_operators = auth.api(Role.OPERATOR)
    operators = auth.page(Role.OPERATOR)

    async def compute(start: str | None, end: str | None) -> dict[str, Any]:
        first, last = date_range(start, end, runtime.clock.now().astimezone(tz).date())
        return funnel(await outcomes(runtime.store, first, last, tz), first, last)

    @router.get("/api/v1/stats/funnel", summary="What the unpaid journey earns, with the control group's uplift")
    async def get_funnel(
        who: Annotated[Principal, Depends(api_operators)],
        start: Annotated[str | None, Query(alias="from", pattern=DATE)] = None,
        end: Annotated[str | None, Query(alias="to", pattern=DATE)] = None,
    ) -> Any:
        return await compute(start, end)

    @router.get("/console/funnel", include_in_schema=False)
    async def funnel_page(
        who: Annotated[Principal, Depends(operators)],
        start: Annotated[str | None, Query(alias="from")] = None,
        end: Annotated[str | None, Query(alias="to")] = None,
    ) -> Response:
        data = await compute(start or None, end or None)
        paid_after = data["paid_after"]
        steps = horizontal_bars([
            ("orders", data["orders"]), ("paid_without_message", data["paid_without_message"]),
            ("payment_help", paid_after["payment_help"]), ("nudge", paid_after["nudge"]),
            ("offer", paid_after["offer"]), ("lost", data["lost"]), ("cancelled", data["cancelled"]),
        ])  # fmt: skip
        for day in data["daily"]:
            day["unpaid"] = day["orders"] - day["paid_after_message"] - day["paid_without_message"]
        days = daily_columns(data["daily"], DAILY_KEYS)
        conversion = {
            step: (paid_after[step] / data["reached"][step] if data["reached"][step] else None) for step in paid_after
        }
        return pages.render("funnel.html", who, f=data, steps=steps, days=days, conversion=conversion)

    return router
