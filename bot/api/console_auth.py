"""Who is asking: a console session (cookie from the login page: HttpOnly,
SameSite=Strict, Secure behind https, expiring) or, for machines only, the
API token. Every state-changing request of a session carries its CSRF token
(form field `csrf` or header `X-CSRF-Token`). Login, logout."""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from bot.accounts import AuditEntry, Role, new_session, token_hash, verify_password
from bot.api.console_pages import Pages
from bot.storage.console_store import ConsoleStore
from dialogs.ports import Clock

log = logging.getLogger(__name__)
COOKIE = "buyerbot_session"
LOGIN_COOKIE = "buyerbot_login"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LoginAttempts:
    """Wrong passwords per account name: after MAX_FAILURES within WINDOW
    seconds the name is refused until the oldest of them is that old (this
    process's memory: a guesser cannot try thousands of passwords)."""

    MAX_FAILURES = 5
    WINDOW = 900.0

    def __init__(self) -> None:
        self._failures: dict[str, list[float]] = {}

    def _recent(self, name: str) -> list[float]:
        now = time.monotonic()
        kept = [at for at in self._failures.get(name.lower(), []) if now - at < self.WINDOW]
        if kept:
            self._failures[name.lower()] = kept
        else:
            self._failures.pop(name.lower(), None)
        return kept

    def blocked(self, name: str) -> bool:
        return len(self._recent(name)) >= self.MAX_FAILURES

    def failed(self, name: str) -> None:
        self._failures.setdefault(name.lower(), []).append(time.monotonic())

    def succeeded(self, name: str) -> None:
        self._failures.pop(name.lower(), None)


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    csrf: str = ""
    token_hash: str = ""
    timezone: str = ""
    #: the API token (the store backend, scripts): never a person
    machine: bool = False

    @property
    def operator(self) -> bool:
        return self.role is Role.OPERATOR


def _same(given: str | None, expected: str) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest((given or "").encode(), expected.encode())


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console"


class ConsoleAuth:
    def __init__(
        self, store: ConsoleStore, api_token: str, clock: Clock, lifetime: timedelta, https: bool = False
    ) -> None:
        self.store = store
        self.api_token = api_token
        self.clock = clock
        self.lifetime = lifetime
        self.https = https
        self.attempts = LoginAttempts()

    async def session_of(self, request: Request) -> Principal | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        hashed = token_hash(token)
        session = await self.store.get_session(hashed, self.clock.now())
        if session is None:
            return None
        user = await self.store.get_user(session.user)
        if user is None or user.disabled:
            return None
        return Principal(user.name, user.role, session.csrf, hashed, user.timezone)

    def bearer_of(self, request: Request) -> Principal | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and _same(token, self.api_token):
            return Principal("api", Role.OPERATOR, machine=True)
        return None

    def page(self, *roles: Role) -> Callable[[Request], Awaitable[Principal]]:
        """A page dependency: the session's person, else off to the login page."""

        async def dependency(request: Request) -> Principal:
            who = await self.session_of(request)
            if who is None:
                target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
                raise HTTPException(303, "log in first", {"Location": f"/login?next={target}"})
            if roles and who.role not in roles:
                raise HTTPException(403, "not for your role")
            if request.method not in SAFE_METHODS:
                form = await request.form()
                if not _same(str(form.get("csrf") or ""), who.csrf):
                    raise HTTPException(403, "stale or missing form token: reload the page")
            return who

        return dependency

    def api(self, *roles: Role, machines: bool = True) -> Callable[[Request], Awaitable[Principal]]:
        """A JSON API dependency: the API token (when `machines`) or a session
        whose state-changing requests carry `X-CSRF-Token`."""

        async def dependency(request: Request) -> Principal:
            who = self.bearer_of(request) if machines else None
            if who is None:
                who = await self.session_of(request)
                if who is None:
                    raise HTTPException(401, "log in, or send the API token", {"WWW-Authenticate": "Bearer"})
                if request.method not in SAFE_METHODS and not _same(request.headers.get("x-csrf-token"), who.csrf):
                    raise HTTPException(403, "missing or wrong X-CSRF-Token")
            if roles and who.role not in roles:
                raise HTTPException(403, "not for your role")
            return who

        return dependency

    def set_cookie(self, response: Response, name: str, value: str, request: Request, max_age: int) -> None:
        secure = self.https or request.url.scheme == "https"
        response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", secure=secure, path="/")

    def router(self, pages: Pages) -> APIRouter:
        router = APIRouter(include_in_schema=False)

        @router.get("/login")
        async def login_page(request: Request, next: str = "/console") -> Response:
            nonce = secrets.token_urlsafe(16)
            response = pages.render("login.html", None, next=_safe_next(next), login_csrf=nonce)
            self.set_cookie(response, LOGIN_COOKIE, nonce, request, 3600)
            return response

        @router.post("/login")
        async def login(
            request: Request,
            name: Annotated[str, Form(max_length=64)],
            password: Annotated[str, Form(max_length=1024)],
            login_csrf: Annotated[str, Form(max_length=64)] = "",
            next: Annotated[str, Form(max_length=2000)] = "/console",
        ) -> Response:
            if not _same(login_csrf, request.cookies.get(LOGIN_COOKIE, "")):
                raise HTTPException(403, "stale login form: reload the page")
            blocked = self.attempts.blocked(name)
            user = None if blocked else await self.store.get_user(name)
            if user is None or user.disabled or not verify_password(user, password):
                log.warning("console login refused for %r%s", name, " (too many attempts)" if blocked else "")
                if not blocked:
                    self.attempts.failed(name)
                nonce = secrets.token_urlsafe(16)
                response = pages.render("login.html", None, code=429 if blocked else 401, next=_safe_next(next),
                                        login_csrf=nonce, failed=True, blocked=blocked, name=name)  # fmt: skip
                self.set_cookie(response, LOGIN_COOKIE, nonce, request, 3600)
                return response
            self.attempts.succeeded(name)
            now = self.clock.now()
            token, session = new_session(user.name, now, self.lifetime)
            await self.store.add_session(session)
            await self.store.audit(AuditEntry(now, user.name, "logged_in"))
            done = RedirectResponse(_safe_next(next), status_code=303)
            self.set_cookie(done, COOKIE, token, request, int(self.lifetime.total_seconds()))
            done.delete_cookie(LOGIN_COOKIE, path="/")
            return done

        @router.post("/logout")
        async def logout(request: Request) -> Response:
            who = await self.page()(request)
            await self.store.drop_session(who.token_hash)
            await self.store.audit(AuditEntry(self.clock.now(), who.name, "logged_out"))
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(COOKIE, path="/")
            return response

        return router
