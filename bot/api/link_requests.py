"""An agent answers a link request (a second chat that proved an order by its
number while the order already talks to another chat): approve or refuse.
Behind the API token; pending requests show in `GET /api/v1/orders/{id}`
under `conversation.memory.link_requests`."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from bot.api.bearer import bearer_guard
from bot.runtime import Runtime
from dialogs.link_requests import APPROVE, REFUSE
from dialogs.model import Inbound


class AnswerIn(BaseModel):
    agent: str = Field("api", min_length=1, max_length=100)


def link_request_router(runtime: Runtime, api_token: str) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    authorised = bearer_guard(api_token)

    @router.post(
        "/orders/{order_id}/link-requests/{request}/{answer}",
        status_code=202,
        dependencies=[Depends(authorised)],
        summary="An agent approves or refuses a chat's request to follow an order",
        responses={409: {"description": "no such request waiting"}},
    )
    async def answer(
        order_id: str, request: str, answer: Literal["approve", "refuse"], body: AnswerIn | None = None
    ) -> Any:
        conversation, _ = await runtime.store.load(order_id)
        if conversation is None:
            raise HTTPException(404, "unknown order")
        entry = conversation.memory.get("link_requests", {}).get(request)
        if entry is None or entry.get("state") != "asked":
            raise HTTPException(409, "no such request waiting")
        action = f"{APPROVE if answer == 'approve' else REFUSE}.{request}"
        payload = {"agent": (body.agent if body else "api"), "action": action, "via": "api"}
        source = f"linkanswer:{order_id}:{request}:{secrets.token_hex(4)}"
        await runtime.submit(Inbound(order_id, "agent_answered_link", payload, source, runtime.clock.now()))
        return {"accepted": True}

    return router
