"""Settings from the environment (prefix BUYERBOT_) and an optional .env file.
A wrong value stops start-up with one line naming the setting."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting that cannot be used; str() is the one line to show."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BUYERBOT_", env_file=".env", extra="ignore")

    store_url: str = "sqlite:///var/buyerbot.sqlite3"
    policy: Path = ROOT / "policy.toml"
    templates: Path = ROOT / "templates"
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    #: the bearer token of the event API; generated into var/ when unset
    api_token: str | None = None
    #: the address buyers reach the web chat at (links printed by `buyerbot link`)
    public_url: str = ""
    max_event_bytes: int = Field(65536, ge=1024)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: where buyers' uploaded photos and videos are kept (shared by every
    #: process of one bot); default: `media/` beside the SQLite file, else var/media
    media_dir: Path | None = None
    #: the HTTP surface's bounds (README, Security): bodies, timeouts, connections
    max_body_bytes: int = Field(65536, ge=1024)
    http_header_timeout: float = Field(10.0, gt=0)
    http_body_timeout: float = Field(30.0, gt=0)
    http_keep_alive_timeout: int = Field(5, ge=1)
    http_max_connections: int = Field(512, ge=8)
    http_max_concurrency: int = Field(1000, ge=1)
    http_max_header_bytes: int = Field(16384, ge=1024)
    #: the interactive API docs at /docs (the OpenAPI document is always at /openapi.json)
    docs: bool = False

    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None

    whatsapp_phone_id: str | None = None
    whatsapp_token: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com"

    agent_chat_id: int | None = None
    agent_ids: str = ""

    #: hours a console login lasts
    console_session_hours: float = Field(12.0, gt=0, le=24 * 30)
    #: serve /metrics on this port without a token (0: only on the main port, behind the API token)
    metrics_port: int = Field(0, ge=0, le=65535)
    #: `text` or `json` (one JSON object per line)
    log_format: Literal["text", "json"] = "text"
    #: the multilingual sentence model's second opinion on typed messages (dialogs/intent_model.py)
    intent_model: bool = True

    @field_validator("store_url")
    @classmethod
    def _known_store(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "redis://", "rediss://", "unix://")):
            raise ValueError("use sqlite:///path/to/file.sqlite3 or redis://host:port/db")
        return value

    @model_validator(mode="after")
    def _complete_channels(self) -> Settings:
        webhook = self.telegram_mode == "webhook" and self.telegram_token
        if webhook and not (self.telegram_webhook_url and self.telegram_webhook_secret):
            raise ValueError("telegram_webhook_url and telegram_webhook_secret are required when telegram_mode=webhook")
        whatsapp = {
            "whatsapp_phone_id": self.whatsapp_phone_id,
            "whatsapp_token": self.whatsapp_token,
            "whatsapp_app_secret": self.whatsapp_app_secret,
            "whatsapp_verify_token": self.whatsapp_verify_token,
        }
        given = [k for k, v in whatsapp.items() if v]
        if given and len(given) != len(whatsapp):
            missing = ", ".join(f"BUYERBOT_{k.upper()}" for k in whatsapp if k not in given)
            raise ValueError(f"WhatsApp is half configured: also set {missing}")
        return self

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.whatsapp_phone_id)

    @property
    def agent_id_set(self) -> frozenset[int]:
        return frozenset(int(x) for x in self.agent_ids.replace(",", " ").split() if x.strip())

    @property
    def media_root(self) -> Path:
        if self.media_dir is not None:
            return self.media_dir
        if self.store_url.startswith("sqlite:///"):
            return Path(self.store_url.removeprefix("sqlite:///")).parent / "media"
        return Path("var/media")

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.http_host}:{self.http_port}"


def load_settings(**overrides: object) -> Settings:
    """Settings, or a ConfigError whose message is one line naming the setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "settings"
        name = f"BUYERBOT_{field.upper()}" if error["loc"] else "settings"
        raise ConfigError(f"{name}: {error['msg']}") from None
