"""Tasks and people: `/console/tasks` and `GET /api/v1/tasks?status=open|done|all`,
`POST /api/v1/tasks/{id}/done` (agents see and close the tasks of their
conversations, operators all, the API token all); `/console/users` (operators:
accounts and the audit log) and `GET /api/v1/audit`."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException
from fastapi.responses import RedirectResponse, Response

from bot.accounts import AuditEntry, Role
from bot.api.console_auth import ConsoleAuth, Principal
from bot.api.console_pages import Pages
from bot.runtime import Runtime
from bot.seller_tasks import STATUSES, deadline_of, details_of, for_page, seller_tasks, visible_to, with_buyers
from bot.user_admin import AccountError, add_account, reset_password, set_disabled

Status = Literal["open", "done", "all"]


def admin_router(runtime: Runtime, auth: ConsoleAuth, pages: Pages) -> APIRouter:
    router = APIRouter()
    people = auth.page(Role.AGENT, Role.OPERATOR)
    operators = auth.page(Role.OPERATOR)
    api_people = auth.api(Role.AGENT, Role.OPERATOR)
    api_operators = auth.api(Role.OPERATOR)

    async def tasks_for(who: Principal, status: str) -> list[dict[str, Any]]:
        if status not in STATUSES:
            raise HTTPException(422, f"status is one of {', '.join(STATUSES)}")
        found = await seller_tasks(runtime.store, auth.store, status)
        return found if who.operator else await visible_to(runtime.store, who.name, found)

    async def mark_done(who: Principal, task_id: str) -> dict[str, Any]:
        mine = {t["id"]: t for t in await tasks_for(who, "all")}
        task = mine.get(task_id)
        if task is None:
            raise HTTPException(404, "no such task (or not one of yours)")
        now = runtime.clock.now()
        if not await auth.store.mark_task_done(task_id, who.name, now):
            raise HTTPException(409, f"already done by {task['done_by']}")
        details = {"kind": task.get("kind"), "order_id": task.get("order_id") or task.get("conversation_id")}
        await auth.store.audit(AuditEntry(now, who.name, "task_done", task_id, details))
        return {**task, "status": "done", "done_by": who.name, "done_at": now.isoformat()}

    @router.get("/api/v1/tasks", summary="Seller tasks (price changes, lost orders, ...): status=open|done|all")
    async def get_tasks(who: Annotated[Principal, Depends(api_people)], status: Status = "all") -> Any:
        return await tasks_for(who, status)

    @router.post("/api/v1/tasks/{task_id}/done", summary="Mark a seller task done (who and when recorded)")
    async def post_done(who: Annotated[Principal, Depends(api_people)], task_id: str) -> Any:
        return await mark_done(who, task_id)

    @router.get("/console/tasks", include_in_schema=False)
    async def tasks_page(who: Annotated[Principal, Depends(people)], status: str = "open") -> Response:
        tasks = await with_buyers(runtime.store, for_page(await tasks_for(who, status)))
        return pages.render("tasks.html", who, tasks=tasks, status=status, statuses=STATUSES, details=details_of,
                            deadline=deadline_of)  # fmt: skip

    @router.post("/console/tasks/{task_id}/done", include_in_schema=False)
    async def done_form(who: Annotated[Principal, Depends(people)], task_id: str) -> Response:
        await mark_done(who, task_id)
        return RedirectResponse("/console/tasks", status_code=303)

    async def people_page(who: Principal, code: int = 200, **notice: Any) -> Response:
        users, audit = await auth.store.users(), await auth.store.audit_log(200)
        return pages.render("users.html", who, code, users=users, audit=audit, **notice)

    @router.get("/console/users", include_in_schema=False)
    async def users_page(who: Annotated[Principal, Depends(operators)]) -> Response:
        return await people_page(who)

    @router.post("/console/users", include_in_schema=False)
    async def add_user_form(
        who: Annotated[Principal, Depends(operators)],
        name: Annotated[str, Form(max_length=64)],
        role: Annotated[str, Form(max_length=16)],
        password: Annotated[str, Form(max_length=1024)] = "",
        timezone: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        now = runtime.clock.now()
        try:
            user, generated = await add_account(auth.store, name.strip(), role, password or None, now, timezone)
        except AccountError as exc:
            return await people_page(who, 422, error=str(exc))
        await auth.store.audit(AuditEntry(now, who.name, "user_added", user.name, {"role": str(user.role)}))
        return await people_page(who, done=f"added {user.name}", password_for=user.name, password=generated)

    @router.post("/console/users/{name}/{action}", include_in_schema=False)
    async def change_user_form(who: Annotated[Principal, Depends(operators)], name: str, action: str) -> Response:
        if action not in ("disable", "enable", "reset"):
            raise HTTPException(404, "disable, enable or reset")
        if name == who.name and action == "disable":
            return await people_page(who, 409, error="you cannot disable your own account")
        try:
            generated = await reset_password(auth.store, name, None) if action == "reset" else None
            if action != "reset":
                await set_disabled(auth.store, name, action == "disable")
        except AccountError as exc:
            return await people_page(who, 422, error=str(exc))
        await auth.store.audit(AuditEntry(runtime.clock.now(), who.name, f"user_{action}d", name))
        return await people_page(who, done=f"{action}d {name}", password_for=name, password=generated)

    @router.get("/api/v1/audit", summary="Who did what in the console, newest first")
    async def get_audit(who: Annotated[Principal, Depends(api_operators)], limit: int = 200) -> Any:
        return [entry.to_dict() for entry in await auth.store.audit_log(max(1, min(limit, 5000)))]

    @router.get("/api/v1/users", summary="Console accounts (never their password hashes)")
    async def get_users(who: Annotated[Principal, Depends(api_operators)]) -> Any:
        return [user.public() for user in await auth.store.users()]

    return router
