"""People of the store who use the web console: accounts with a role, argon2
password hashes, sessions that expire (only a hash of the session token is
stored), and the audit entries their actions leave."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dialogs.model import iso, parse_time

NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()


class Role(StrEnum):
    #: the inbox and their own tasks
    AGENT = "agent"
    #: everything: users, all tasks, the funnel
    OPERATOR = "operator"


@dataclass
class User:
    name: str
    role: Role
    password_hash: str
    created_at: datetime
    disabled: bool = False
    #: IANA zone the console shows times in; empty: the store's
    timezone: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": str(self.role),
            "password_hash": self.password_hash,
            "created_at": iso(self.created_at),
            "disabled": self.disabled,
            "timezone": self.timezone,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> User:
        created = parse_time(data["created_at"])
        assert created is not None
        return cls(
            name=data["name"],
            role=Role(data["role"]),
            password_hash=data["password_hash"],
            created_at=created,
            disabled=bool(data.get("disabled", False)),
            timezone=str(data.get("timezone", "")),
        )

    def public(self) -> dict[str, Any]:
        """What lists and pages show: never the hash."""
        return {
            "name": self.name,
            "role": str(self.role),
            "disabled": self.disabled,
            "created_at": iso(self.created_at),
        }


@dataclass
class Session:
    #: sha256 of the cookie's token: a leaked store does not open sessions
    token_hash: str
    user: str
    csrf: str
    created_at: datetime
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "token_hash": self.token_hash,
            "user": self.user,
            "csrf": self.csrf,
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        created, expires = parse_time(data["created_at"]), parse_time(data["expires_at"])
        assert created is not None and expires is not None
        return cls(data["token_hash"], data["user"], data["csrf"], created, expires)


@dataclass
class AuditEntry:
    at: datetime
    actor: str
    #: claimed, replied, handed_back, assigned, noted, offered, refund_date, task_done, login, ...
    action: str
    target: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"at": iso(self.at), "actor": self.actor, "action": self.action, "target": self.target,
                "details": dict(self.details)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditEntry:
        at = parse_time(data["at"])
        assert at is not None
        return cls(at, data["actor"], data["action"], data.get("target", ""), dict(data.get("details", {})))


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ValueError("a user name is 1-64 letters, digits or . _ - @")
    return name


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password has at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    return secrets.token_urlsafe(12)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(user: str, now: datetime, lifetime: timedelta) -> tuple[str, Session]:
    """The cookie's token (given to the browser once) and the session stored."""
    token = secrets.token_urlsafe(32)
    return token, Session(token_hash(token), user, secrets.token_urlsafe(24), now, now + lifetime)
