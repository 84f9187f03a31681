"""`buyerbot users add|list|disable|enable|reset`: the console's accounts,
managed from the command line against the configured store (the bot may be
running). A new or reset password is read from stdin with --password-stdin,
else generated and printed once."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from bot.accounts import Role
from bot.config import Settings
from bot.storage.console_store import ConsoleStore, open_console_store
from bot.user_admin import AccountError, add_account, reset_password, set_disabled


def add_parser(commands: argparse._SubParsersAction) -> None:
    users = commands.add_parser("users", help="console accounts (agents, operators)")
    sub = users.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", choices=[str(r) for r in Role], required=True)
    add.add_argument("--timezone", default="", help="IANA zone the console shows times in (default: the store's)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    sub.add_parser("list", help="list accounts")
    for name, text in (("disable", "log out and lock an account"), ("enable", "unlock an account")):
        sub.add_parser(name, help=text).add_argument("name")
    reset = sub.add_parser("reset", help="set a new password (logs the person out everywhere)")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from stdin")


def _given(from_stdin: bool) -> str | None:
    return sys.stdin.readline().rstrip("\n") if from_stdin else None


async def run(settings: Settings, args: argparse.Namespace) -> int:
    store = await open_console_store(settings.store_url)
    try:
        await store.ping()
        return await _dispatch(store, args)
    except AccountError as exc:
        print(f"buyerbot: {exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()


async def _dispatch(store: ConsoleStore, args: argparse.Namespace) -> int:
    command = args.users_command
    if command == "list":
        for user in await store.users():
            state = "disabled" if user.disabled else "active"
            print(f"{user.name}\t{user.role}\t{state}\t{user.created_at:%Y-%m-%d}")
        return 0
    if command == "add":
        now = datetime.now(UTC)
        user, generated = await add_account(store, args.name, args.role, _given(args.password_stdin), now,
                                            args.timezone)  # fmt: skip
        print(f"added {user.name} ({user.role})" + (f"; password: {generated}" if generated else ""))
    elif command == "reset":
        generated = await reset_password(store, args.name, _given(args.password_stdin))
        print(f"reset {args.name}" + (f"; password: {generated}" if generated else ""))
    else:
        await set_disabled(store, args.name, command == "disable")
        print(f"{command}d {args.name}")
    return 0
