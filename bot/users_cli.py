"""`buyerbot users add|list|disable|enable|reset`: the console's accounts,
managed from the command line against the configured store (the bot may be
running). A new or reset password is read from stdin with --password-stdin,
else generated and printed once."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from bot.accounts import Role, User, check_name, hash_password, new_password
from bot.config import Settings
from bot.storage.console_store import ConsoleStore, open_console_store


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


def _password(from_stdin: bool) -> tuple[str, bool]:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    return new_password(), True


async def run(settings: Settings, args: argparse.Namespace) -> int:
    store = await open_console_store(settings.store_url)
    try:
        await store.ping()
        return await _dispatch(store, args)
    finally:
        await store.close()


async def _dispatch(store: ConsoleStore, args: argparse.Namespace) -> int:
    command = args.users_command
    if command == "list":
        for user in await store.users():
            state = "disabled" if user.disabled else "active"
            print(f"{user.name}\t{user.role}\t{state}\t{user.created_at:%Y-%m-%d}")
        return 0
    name = check_name(args.name)
    if command == "add":
        password, generated = _password(args.password_stdin)
        user = User(name, Role(args.role), hash_password(password), datetime.now(UTC), timezone=args.timezone)
        if not await store.add_user(user):
            print(f"buyerbot: user {name!r} exists (use `buyerbot users reset {name}`)", file=sys.stderr)
            return 1
        print(f"added {name} ({user.role})" + (f"; password: {password}" if generated else ""))
        return 0
    found = await store.get_user(name)
    if found is None:
        print(f"buyerbot: no user {name!r}", file=sys.stderr)
        return 1
    if command == "reset":
        password, generated = _password(args.password_stdin)
        found.password_hash = hash_password(password)
        print(f"reset {name}" + (f"; password: {password}" if generated else ""))
    else:
        found.disabled = command == "disable"
        print(f"{command}d {name}")
    await store.save_user(found)
    await store.drop_sessions_of(name)
    return 0
