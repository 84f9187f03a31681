"""Managing accounts, the same from the command line (`buyerbot users`) and
from the operators' People page: add, disable or enable, reset a password.
Disabling and resetting log the person out everywhere."""

from __future__ import annotations

from datetime import datetime

from bot.accounts import Role, User, check_name, hash_password, new_password
from bot.storage.console_store import ConsoleStore


class AccountError(ValueError):
    """Why an account change cannot be made (one line, shown as it is)."""


async def add_account(
    store: ConsoleStore, name: str, role: str, password: str | None, now: datetime, timezone: str = ""
) -> tuple[User, str | None]:
    """The new user and the generated password (None when one was given)."""
    try:
        check_name(name)
        chosen = Role(role)
        generated = None if password else new_password()
        user = User(name, chosen, hash_password(password or str(generated)), now, timezone=timezone)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    if not await store.add_user(user):
        raise AccountError(f"user {name!r} exists")
    return user, generated


async def _existing(store: ConsoleStore, name: str) -> User:
    found = await store.get_user(name)
    if found is None:
        raise AccountError(f"no user {name!r}")
    return found


async def set_disabled(store: ConsoleStore, name: str, disabled: bool) -> User:
    user = await _existing(store, name)
    user.disabled = disabled
    await store.save_user(user)
    await store.drop_sessions_of(name)
    return user


async def reset_password(store: ConsoleStore, name: str, password: str | None) -> str | None:
    """The generated password (None when one was given)."""
    user = await _existing(store, name)
    generated = None if password else new_password()
    try:
        user.password_hash = hash_password(password or str(generated))
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    await store.save_user(user)
    await store.drop_sessions_of(name)
    return generated
