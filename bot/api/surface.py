"""The HTTP surface's hardening, applied to the app in one call: body limits,
security headers, error handlers, static files for the pages, the optional
/docs page, and an OpenAPI document that names every status a route answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from bot.api.body_limits import BodyLimitMiddleware, BodyLimits
from bot.api.errors import install_error_handlers
from bot.api.events import order_event_schemas
from bot.api.security_headers import PAGE_POLICY, SecurityHeadersMiddleware, nonce
from bot.config import Settings

STATIC = Path(__file__).resolve().parent.parent / "static"
#: statuses by what a route has, for the OpenAPI document
BODY_STATUSES = {
    "400": "the body is not JSON",
    "408": "body not received in time",
    "413": "body over the route's limit",
    "422": "invalid body or parameters (a short excerpt of the input is echoed)",
}
AUTH_STATUS = {"401": "missing or wrong bearer token"}
#: routes open to anyone (the buyer's web chat; the webhooks check their own signatures)
EVENT_ERRORS = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "array", "items": {
        "type": "object", "required": ["field", "message"],
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}},
}  # fmt: skip
#: a 422 from any route: FastAPI's list of errors, or a route's own one-line reason
ANY_422 = {
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]}},
}
PUBLIC_PREFIXES = ("/chat", "/healthz")


def harden(app: FastAPI, settings: Settings, limits: BodyLimits) -> None:
    app.state.body_limits = limits
    app.add_middleware(BodyLimitMiddleware, limits=limits)
    app.add_middleware(SecurityHeadersMiddleware)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if settings.docs:
        _docs_page(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            app.openapi_schema = document_statuses(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_statuses(schema: dict[str, Any]) -> dict[str, Any]:
    """Every status a route may answer, and the event schema that order.placed must meet."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    event_schema, definitions = order_event_schemas()
    components.update(definitions)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            extra: dict[str, str] = {}
            if method in ("post", "put", "patch"):
                extra |= BODY_STATUSES
            if operation.get("parameters"):
                extra["422"] = BODY_STATUSES["422"]
            if "{" in path or path.startswith("/chat/api/"):
                extra["404"] = "unknown order, conversation or session"
            if not path.startswith(PUBLIC_PREFIXES) and not path.startswith(("/telegram/", "/whatsapp/")):
                extra |= AUTH_STATUS
            for status, description in extra.items():
                responses.setdefault(status, {"description": description})
            if "422" in responses:
                description = responses["422"].get("description", BODY_STATUSES["422"])
                responses["422"] = {"description": description, "content": {"application/json": {"schema": ANY_422}}}
            if path == "/api/v1/events" and method == "post":
                operation["requestBody"]["content"]["application/json"]["schema"] = event_schema
                responses.setdefault("200", {"description": "a duplicate of an accepted event_id"})
                responses["422"] = {"description": "invalid envelope or data; the field is named",
                                    "content": {"application/json": {"schema": EVENT_ERRORS}}}  # fmt: skip
    return schema


def _docs_page(app: FastAPI) -> None:
    """Swagger UI from its CDN (BUYERBOT_DOCS=true), its inline script allowed by a nonce."""

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        token = nonce()
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="BuyerBot API")
        html = bytes(page.body).decode().replace("<script>", f'<script nonce="{token}">')
        cdn = "https://cdn.jsdelivr.net"
        policy = (
            PAGE_POLICY.replace("script-src 'self'", f"script-src 'self' 'nonce-{token}' {cdn}")
            .replace("style-src 'self'", f"style-src 'self' {cdn}")
            .replace("img-src 'self'", "img-src 'self' https://fastapi.tiangolo.com")
        )
        return HTMLResponse(html, headers={"content-security-policy": policy})
