"""The web console's inbox: `/console` (conversation list with filters and
search), `/console/c/{id}` (one conversation, its order, follow-ups, evidence
and the actions), `/console/live` (server-sent events), and the same as JSON:
`GET /api/v1/queue`, `GET /api/v1/inbox`, `GET /api/v1/conversations/{id}`,
`POST /api/v1/conversations/{id}/{action}` (a logged-in person only: the
author is the session's, never the body's)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse

from bot.accounts import Role
from bot.agents_queue import HandoffRules, build_queue, card_context
from bot.api.console_auth import ConsoleAuth, Principal
from bot.api.console_pages import Pages
from bot.console_actions import CANNED, ActionError, ActionIn, ConsoleActions
from bot.inbox import VIEWS, conversation_view, in_view, inbox
from bot.live import LiveHub
from bot.rendering import Renderer
from bot.runtime import Runtime

MAX_TEXT = 4096
View = Literal["waiting", "mine", "others", "bot", "all"]


class ActionBody(BaseModel):
    text: str = Field("", max_length=MAX_TEXT)
    agent: str = Field("", max_length=64)
    percent: str = Field("", max_length=16)
    template: str = Field("", max_length=64)


@dataclass
class Console:
    runtime: Runtime
    auth: ConsoleAuth
    pages: Pages
    rules: HandoffRules
    renderer: Renderer
    hub: LiveHub

    @property
    def actions(self) -> ConsoleActions:
        return ConsoleActions(self.runtime, self.auth.store, self.rules, self.renderer)

    async def entries(self, who: Principal, view: str, q: str) -> list[Any]:
        if view not in VIEWS:
            raise HTTPException(422, f"view is one of {', '.join(VIEWS)}")
        seen = await self.auth.store.seen(who.name)
        return await inbox(self.runtime.store, self.rules, self.runtime.clock.now(), who.name, seen, view, q)

    def counts(self, who: Principal, everything: list[Any]) -> dict[str, int]:
        counts = {view: sum(1 for e in everything if in_view(e.conversation, view, who.name)) for view in VIEWS}
        counts["unread"] = sum(e.unread for e in everything)
        return counts

    async def view(self, who: Principal, conversation_id: str) -> Any:
        found = await conversation_view(
            self.runtime.store, self.rules, conversation_id, self.runtime.clock.now(), self.renderer.label
        )
        if found is None:
            raise HTTPException(404, "unknown conversation")
        if not who.machine:
            await self.auth.store.mark_seen(who.name, conversation_id, found.last_seq)
        return found


def console_router(console: Console) -> APIRouter:
    router = APIRouter()
    people = console.auth.page(Role.AGENT, Role.OPERATOR)
    api_people = console.auth.api(Role.AGENT, Role.OPERATOR)
    only_people = console.auth.api(Role.AGENT, Role.OPERATOR, machines=False)

    @router.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/console", status_code=303)

    @router.get("/console", include_in_schema=False)
    async def inbox_page(who: Annotated[Principal, Depends(people)], view: str = "all", q: str = "") -> Response:
        if view not in VIEWS:
            raise HTTPException(422, f"view is one of {', '.join(VIEWS)}")
        everything = await console.entries(who, "all", "")  # one pass over the store for the list and the counts
        if q:
            entries = await console.entries(who, view, q)
        else:
            entries = [e for e in everything if in_view(e.conversation, view, who.name)]
        counts = console.counts(who, everything)
        return console.pages.render("inbox.html", who, entries=entries, view=view, q=q, views=VIEWS, counts=counts)

    @router.get("/console/c/{conversation_id}", include_in_schema=False)
    async def conversation_page(
        who: Annotated[Principal, Depends(people)], conversation_id: str, error: str = "", done: str = ""
    ) -> Response:
        found = await console.view(who, conversation_id)
        users = [u for u in await console.auth.store.users() if not u.disabled]
        return console.pages.render(
            "conversation.html", who, c=found, rules=console.rules, canned=CANNED, users=users, error=error, done=done
        )

    @router.post("/console/c/{conversation_id}/{action}", include_in_schema=False)
    async def form_action(
        who: Annotated[Principal, Depends(people)],
        conversation_id: str,
        action: str,
        text: Annotated[str, Form(max_length=MAX_TEXT)] = "",
        agent: Annotated[str, Form(max_length=64)] = "",
        percent: Annotated[str, Form(max_length=16)] = "",
        template: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        target = f"/console/c/{quote(conversation_id)}"
        try:
            await console.actions.act(who, conversation_id, action, ActionIn(text, agent, percent, template))
        except ActionError as exc:
            return RedirectResponse(f"{target}?error={quote(str(exc))}", status_code=303)
        return RedirectResponse(f"{target}?done={quote(action)}", status_code=303)

    @router.get("/console/live", include_in_schema=False)
    async def live(who: Annotated[Principal, Depends(people)]) -> EventSourceResponse:
        async def events() -> AsyncIterator[dict[str, str]]:
            async for conversation_id in console.hub.subscribe():
                if conversation_id:
                    yield {"event": "changed", "data": conversation_id}
                else:
                    yield {"event": "ping", "data": ""}

        return EventSourceResponse(events())

    @router.get("/api/v1/queue", summary="Chats waiting for or with an agent, longest waiting first")
    async def get_queue(who: Annotated[Principal, Depends(api_people)]) -> Any:
        items = await build_queue(console.runtime.store, console.rules, console.runtime.clock.now())
        return [{"conversation_id": i.conversation.id, **card_context(i, console.rules.hours)} for i in items]

    @router.get("/api/v1/inbox", summary="Conversations: view=waiting|mine|others|bot|all, q= search")
    async def get_inbox(
        who: Annotated[Principal, Depends(api_people)],
        view: View = "all",
        q: Annotated[str, Query(max_length=200)] = "",
    ) -> Any:
        return [entry.to_dict() for entry in await console.entries(who, view, q)]

    @router.get("/api/v1/conversations/{conversation_id}", summary="One conversation as the console shows it")
    async def get_conversation(who: Annotated[Principal, Depends(api_people)], conversation_id: str) -> Any:
        found = await console.view(who, conversation_id)
        return {
            "conversation": found.conversation.to_dict(),
            "order": found.order.to_dict(),
            "transcript": [{**line, "at": line["at"].isoformat()} for line in found.lines],
            "problems": [{**p, "at": p["at"].isoformat()} for p in found.problems],
            "history": [{"at": at, "type": kind} for at, kind in found.history],
            "timers": [{**t, "due_at": t["due_at"].isoformat()} if "due_at" in t else t for t in found.timers],
            "evidence": found.evidence,
            "deadlines": found.deadlines,
        }

    @router.post(
        "/api/v1/conversations/{conversation_id}/{action}",
        status_code=202,
        summary="A person acts: claim, assign (agent), reply (text), canned (template), refund_date, "
        "note (text), offer (percent), handback. Session and X-CSRF-Token required.",
    )
    async def act(
        who: Annotated[Principal, Depends(only_people)], conversation_id: str, action: str, body: ActionBody
    ) -> Any:
        try:
            given = ActionIn(body.text, body.agent, body.percent, body.template)
            return await console.actions.act(who, conversation_id, action, given)
        except ActionError as exc:
            raise HTTPException(exc.status, str(exc)) from None

    return router
