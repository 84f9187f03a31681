"""`buyerbot` command line: run, simulate, events import, policy check, link, users.
Everything is built here, on demand; importing this module starts nothing."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tomllib
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.logs import send_server_logs_to_root, setup_logging
from dialogs.intent_model import SECOND_OPINION
from dialogs.policy import PolicyError, load_policy


def _run(settings: Settings) -> int:
    import uvicorn

    from bot.app import create_app
    from bot.http_server import server_config

    policy = load_policy(settings.policy)
    if settings.store_url.startswith("sqlite:///"):
        from bot.storage.sqlite_lock import hold_single_process

        hold_single_process(settings.store_url[len("sqlite:///") :])  # one line if another runs
    asyncio.run(_check_store(settings))
    app = create_app(settings, policy)
    server = uvicorn.Server(server_config(app, settings))
    if settings.log_format == "json":
        send_server_logs_to_root()
    server.run()
    return 0 if server.started else 1


async def _check_store(settings: Settings) -> None:
    """Fail fast, with one line, when the configured store cannot be used."""
    from bot.storage import open_store

    try:
        store = await open_store(settings.store_url)
        try:
            await store.ping()
        finally:
            await store.close()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    except Exception as exc:
        raise ConnectionError(f"BUYERBOT_STORE_URL: cannot use {settings.store_url}: {exc}") from None


def _simulate(settings: Settings, scenario: Path) -> int:
    from bot.simulator import load_scenario, simulate

    base = tomllib.loads(Path(settings.policy).read_text(encoding="utf-8"))
    lines = asyncio.run(simulate(load_scenario(scenario), settings.templates, base))
    print("\n".join(str(line) for line in lines))
    return 0


def _policy_check(path: Path) -> int:
    from bot.simulator import describe_policy

    policy = load_policy(path)
    print(f"{path}: OK")
    print(describe_policy(policy))
    return 0


def _import(settings: Settings, path: Path, url: str | None, token: str | None) -> int:
    from bot.app import api_token
    from bot.importer import import_events

    target = (url or settings.base_url).rstrip("/")
    report = import_events(path, target, token or api_token(settings))
    print(report.summary())
    return 0 if report.ok else 1


def _link(settings: Settings, order_id: str) -> int:
    from bot.links import print_links

    return asyncio.run(print_links(settings, order_id))


def _users(settings: Settings, args: argparse.Namespace) -> int:
    from bot.users_cli import run

    return asyncio.run(run(settings, args))


def parser() -> argparse.ArgumentParser:
    from bot.users_cli import add_parser

    root = argparse.ArgumentParser(prog="buyerbot", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the bot (HTTP, channels, scheduler)")
    sim = commands.add_parser("simulate", help="replay a scenario on a virtual clock")
    sim.add_argument("scenario", type=Path)
    events = commands.add_parser("events", help="order events")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    imp = events_sub.add_parser("import", help="post events from a JSON-lines or CSV file to the running bot")
    imp.add_argument("file", type=Path)
    imp.add_argument("--url", help="the bot's base URL (default from settings)")
    imp.add_argument("--token", help="API token (default BUYERBOT_API_TOKEN or var/api_token)")
    policy = commands.add_parser("policy", help="policy file")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    check = policy_sub.add_parser("check", help="validate a policy file and print the timeline")
    check.add_argument("file", type=Path)
    link = commands.add_parser("link", help="print the buyer's links (web chat, Telegram) for an order")
    link.add_argument("order_id")
    add_parser(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "policy":
            return _policy_check(args.file)
        settings = load_settings()
        setup_logging(settings.log_level, settings.log_format)
        SECOND_OPINION.configure(settings.intent_model)
        if args.command == "run":
            return _run(settings)
        if args.command == "simulate":
            return _simulate(settings, args.scenario)
        if args.command == "events":
            return _import(settings, args.file, args.url, args.token)
        if args.command == "users":
            return _users(settings, args)
        return _link(settings, args.order_id)
    except (ConfigError, PolicyError, ValueError) as exc:
        print(f"buyerbot: {exc}", file=sys.stderr)
        return 2
    except (ConnectionError, OSError) as exc:
        print(f"buyerbot: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
