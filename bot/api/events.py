"""The order-event API: the store backend posts its events here. Bearer token,
size limit, strict envelope, idempotent on `event_id`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator

from bot.api.bearer import bearer_guard
from bot.runtime import Runtime
from bot.undelivered import held_back, undelivered
from dialogs.model import Inbound
from dialogs.orders import EVENT_TYPES

EventType = Literal[
    "order.placed", "order.paid", "order.cancelled", "item.out_of_stock", "order.shipped",
    "order.at_customs", "order.awaiting_pickup", "order.delivered", "aftersales.opened",
    "dispute.opened", "feedback.left",
]  # fmt: skip
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]
ORDER_ID = r"^[A-Za-z0-9_-]{1,40}$"


class BuyerIn(BaseModel):
    id: str = Field(min_length=1, max_length=100)
    name: str = Field("", max_length=200)
    #: the buyer's language (en, ru, es, pt, fr; others fall back); empty: unknown
    language: str = Field("", max_length=16)
    country: str = Field("", max_length=2)
    timezone: str | None = Field(None, max_length=64)
    first_order: bool = False
    telegram_chat_id: int | None = None
    whatsapp_phone: str | None = Field(None, max_length=32)
    #: facts only the buyer knows, asked when a chat claims the order by its number
    #: (the last 4 digits of this phone, or the delivery postal code); never shown
    phone: str | None = Field(None, max_length=32)
    postal_code: str | None = Field(None, max_length=16)
    #: the buyer's returns this calendar month (who pays return shipping)
    returns_this_month: int | None = Field(None, ge=0)
    #: refund-only requests this buyer made before (the repeated-refund review)
    refund_only_requests: int | None = Field(None, ge=0)


class ItemIn(BaseModel):
    sku: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    url: str = Field("", max_length=1000)
    qty: int = Field(1, ge=1)
    price: float = Field(ge=0)
    stock_left: int | None = Field(None, ge=0)
    #: buyers' average rating of the item, out of 5 ("rated 4.8 of 5" only when given)
    rating: float | None = Field(None, ge=0, le=5)
    #: the store's own best seller ("one of our best sellers" only when true)
    best_seller: bool = False
    #: e.g. devices, electronics, clothing, shoes: picks fitting questions
    category: str = Field("", max_length=60)
    #: seasonal goods: after-sales open only a short time after delivery
    seasonal: bool = False


class TotalIn(BaseModel):
    amount: float = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)


class PlacedData(BaseModel):
    buyer: BuyerIn
    items: list[ItemIn] = Field(min_length=1, max_length=100)
    total: TotalIn


class OrderEvent(BaseModel):
    event_id: str = Field(min_length=1, max_length=128)
    type: EventType
    order_id: str = Field(pattern=ORDER_ID)
    occurred_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a time zone, e.g. 2026-11-11T10:00:00Z")
        return value

    def checked_data(self) -> dict[str, Any]:
        if self.type == "order.placed":
            return PlacedData.model_validate(self.data).model_dump()
        return self.data


OtherType = Literal[
    "order.paid", "order.cancelled", "item.out_of_stock", "order.shipped", "order.at_customs",
    "order.awaiting_pickup", "order.delivered", "aftersales.opened", "dispute.opened", "feedback.left",
]  # fmt: skip


class PlacedEvent(OrderEvent):
    """order.placed: its data is required and checked strictly."""

    type: Literal["order.placed"]
    data: PlacedData  # type: ignore[assignment]


class OtherEvent(OrderEvent):
    type: OtherType


def order_event_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """The request body's JSON Schema (one of the two kinds, by `type`) and the
    definitions it refers to, for the OpenAPI document's components."""
    adapter: TypeAdapter[Any] = TypeAdapter(Annotated[PlacedEvent | OtherEvent, Field(discriminator="type")])
    schema = adapter.json_schema(ref_template="#/components/schemas/{model}")
    return {k: v for k, v in schema.items() if k != "$defs"}, schema.get("$defs", {})


class EventAccepted(BaseModel):
    event_id: str
    duplicate: bool


def to_inbound(event: OrderEvent, received_at: datetime) -> Inbound:
    data = event.checked_data()
    return Inbound(
        conversation_id=event.order_id,
        trigger="order_event",
        payload={
            "type": event.type,
            "order_id": event.order_id,
            "event_id": event.event_id,
            "occurred_at": event.occurred_at.isoformat(),
            "data": data,
        },
        source_id=f"event:{event.event_id}",
        received_at=received_at,
    )


def validation_response(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> JSONResponse:
    errors = [{"field": ".".join(str(p) for p in (*prefix, *e["loc"])), "message": e["msg"]} for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body over {limit} bytes")
    return bytes(body)


def event_router(runtime: Runtime, api_token: str, max_bytes: int) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    authorised = bearer_guard(api_token)

    @router.post(
        "/events",
        status_code=202,
        response_model=EventAccepted,
        dependencies=[Depends(authorised)],
        openapi_extra={
            # the schema itself is set by bot.api.surface.document_statuses
            "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}
        },
        summary="Post one order event (idempotent on event_id)",
    )
    async def post_event(request: Request) -> Any:
        body = await read_limited(request, max_bytes)
        try:
            event = OrderEvent.model_validate_json(body)
            inbound = to_inbound(event, runtime.clock.now())
        except ValidationError as exc:
            prefix: tuple[str, ...] = ("data",) if _is_data_error(exc, body) else ()
            return validation_response(exc, prefix)
        accepted = await runtime.submit(inbound)
        status = 202 if accepted else 200
        return JSONResponse({"event_id": event.event_id, "duplicate": not accepted}, status_code=status)

    @router.get("/orders/{order_id}", dependencies=[Depends(authorised)], summary="What the bot knows")
    async def get_order(order_id: str) -> Any:
        conversation, order = await runtime.store.load(order_id)
        if order is None or conversation is None:
            raise HTTPException(404, "unknown order")
        token = await runtime.store.token_for_order(order_id)
        return {
            "order": order.to_dict(),
            "conversation": conversation.to_dict(),
            "timers": [t.to_dict() for t in await runtime.store.timers_for(order_id)],
            "link_token": token,
            # held or failed in the outbox, and what the bot keeps back for now (dialogs/held.py)
            "undelivered": undelivered(await runtime.store.outbox_for(order_id)),
            "held_back": held_back(conversation),
        }

    @router.get("/orders/{order_id}/transcript", dependencies=[Depends(authorised)])
    async def get_transcript(order_id: str, after: Annotated[int, Query(ge=0, le=2**53)] = 0) -> Any:
        rows = await runtime.store.transcript(order_id, after)
        return [{"seq": seq, **entry.to_dict()} for seq, entry in rows]

    return router


def _is_data_error(exc: ValidationError, body: bytes) -> bool:
    """Errors raised by PlacedData carry paths relative to `data`."""
    return all(e["loc"] and e["loc"][0] not in OrderEvent.model_fields for e in exc.errors())
