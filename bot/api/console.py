"""The web agent console: `GET /console` (the page) and the JSON it uses, the
queue at `GET /api/v1/queue` and the actions `POST /api/v1/conversations/{id}/
reply|claim|handback|note`. All behind the API token: a Bearer header, or for
the page a cookie set once from `/console?token=...` (cookie requests must
also carry `X-Console: 1`, which a cross-site form cannot send)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from bot.agents_queue import HandoffRules, build_queue, card_context
from bot.config import ROOT
from bot.runtime import Runtime
from dialogs.model import Inbound, Ownership
from dialogs.policy import Policy

COOKIE = "buyerbot_console"
MAX_TEXT = 4096
ACTIONS = {"reply": "agent_replied", "claim": "agent_claimed", "handback": "agent_handed_back", "note": "agent_note"}


class ActionIn(BaseModel):
    agent: str = Field("console", min_length=1, max_length=100)
    text: str | None = Field(None, max_length=MAX_TEXT)


def cookie_value(api_token: str) -> str:
    """What the cookie holds: derived from the token, never the token itself."""
    return hashlib.sha256(f"console:{api_token}".encode()).hexdigest()


def _same(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest((given or "").encode(), expected.encode())


def _bearer(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token if scheme.lower() == "bearer" else None


def console_router(runtime: Runtime, api_token: str, policy: Policy, templates: Path | None = None) -> APIRouter:
    router = APIRouter()
    rules = HandoffRules.from_policy(policy)
    page_file = (templates or ROOT / "templates") / "en" / "agents" / "console.html"
    expected_cookie = cookie_value(api_token)

    def authorised(
        authorization: Annotated[str | None, Header()] = None,
        x_console: Annotated[str | None, Header()] = None,
        buyerbot_console: Annotated[str | None, Cookie()] = None,
    ) -> None:
        if _same(_bearer(authorization), api_token):
            return
        if x_console == "1" and _same(buyerbot_console, expected_cookie):
            return
        raise HTTPException(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})

    @router.get("/console", response_class=HTMLResponse, include_in_schema=False)
    async def page(
        request: Request,
        token: str | None = None,
        authorization: Annotated[str | None, Header()] = None,
        buyerbot_console: Annotated[str | None, Cookie()] = None,
    ) -> Response:
        if token is not None:
            if not _same(token, api_token):
                return HTMLResponse("Wrong token.", status_code=401)
            response = RedirectResponse("/console", status_code=303)  # the token leaves the address bar
            secure = request.url.scheme == "https"
            response.set_cookie(COOKIE, expected_cookie, httponly=True, samesite="strict", secure=secure,
                                max_age=30 * 86400)  # fmt: skip
            return response
        if not (_same(_bearer(authorization), api_token) or _same(buyerbot_console, expected_cookie)):
            return HTMLResponse("Open /console?token=&lt;API token&gt; once.", status_code=401)
        return HTMLResponse(page_file.read_text(encoding="utf-8"))

    @router.get("/api/v1/queue", dependencies=[Depends(authorised)], summary="Chats waiting for or with an agent")
    async def get_queue() -> Any:
        items = await build_queue(runtime.store, rules, runtime.clock.now())
        return [{"conversation_id": i.conversation.id, **card_context(i, rules.hours)} for i in items]

    @router.post(
        "/api/v1/conversations/{conversation_id}/{action}",
        status_code=202,
        dependencies=[Depends(authorised)],
        summary="An agent acts: reply (text), claim, handback, note (text)",
    )
    async def act(conversation_id: str, action: str, body: ActionIn) -> Any:
        trigger = ACTIONS.get(action)
        if trigger is None:
            raise HTTPException(404, f"unknown action {action!r}; use {', '.join(ACTIONS)}")
        conversation, order = await runtime.store.load(conversation_id)
        if conversation is None or order is None:
            raise HTTPException(404, "unknown conversation")
        text = (body.text or "").strip()
        if action in ("reply", "note") and not text:
            raise HTTPException(422, "text is required")
        if action == "handback" and conversation.ownership is Ownership.BOT:
            raise HTTPException(409, "the bot already owns this chat")
        payload: dict[str, Any] = {"agent": body.agent, "via": "console", **({"text": text} if text else {})}
        source = f"console:{action}:{conversation_id}:{secrets.token_hex(8)}"
        await runtime.submit(Inbound(conversation_id, trigger, payload, source, runtime.clock.now()))
        return {"accepted": True, "conversation_id": conversation_id, "trigger": trigger}

    return router
