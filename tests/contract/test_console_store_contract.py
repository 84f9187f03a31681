"""The `ConsoleStore` contract on SQLite and Redis: users, expiring sessions,
the audit log, task marks done once, read marks that only move forward."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.accounts import AuditEntry, Role, User, hash_password, new_session, verify_password
from bot.storage.console_store import ConsoleStore, open_console_store
from tests.conftest import BACKENDS, fresh_store_url

T0 = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
async def console(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ConsoleStore]:
    opened = await open_console_store(fresh_store_url(request.param, request, tmp_path))
    yield opened
    await opened.close()


def user(name: str = "kim", role: Role = Role.AGENT) -> User:
    return User(name, role, hash_password("correct horse battery"), T0)


async def test_a_user_name_is_taken_once(console: ConsoleStore) -> None:
    assert await console.add_user(user("kim")) is True
    assert await console.add_user(user("kim", Role.OPERATOR)) is False
    kept = await console.get_user("kim")
    assert kept is not None and kept.role is Role.AGENT
    assert verify_password(kept, "correct horse battery") and not verify_password(kept, "wrong horse battery")
    assert await console.get_user("nobody") is None


async def test_users_are_listed_by_name_and_saved_changes_stay(console: ConsoleStore) -> None:
    for name in ("zoe", "ann", "kim"):
        await console.add_user(user(name))
    ann = await console.get_user("ann")
    assert ann is not None
    ann.disabled = True
    await console.save_user(ann)
    listed = await console.users()
    assert [u.name for u in listed] == ["ann", "kim", "zoe"]
    assert [u.disabled for u in listed] == [True, False, False]


async def test_a_session_opens_until_it_expires_or_is_dropped(console: ConsoleStore) -> None:
    _, session = new_session("kim", T0, timedelta(hours=8))
    await console.add_session(session)
    assert await console.get_session(session.token_hash, T0 + timedelta(hours=7)) == session
    assert await console.get_session(session.token_hash, T0 + timedelta(hours=8)) is None
    assert await console.get_session("not-a-hash", T0) is None
    await console.drop_session(session.token_hash)
    assert await console.get_session(session.token_hash, T0) is None


async def test_dropping_a_users_sessions_leaves_the_others(console: ConsoleStore) -> None:
    now = datetime.now(UTC)  # Redis expires sessions by its own clock
    kims = [new_session("kim", now, timedelta(hours=1))[1] for _ in range(2)]
    _, ann = new_session("ann", now, timedelta(hours=1))
    for session in (*kims, ann):
        await console.add_session(session)
    await console.drop_sessions_of("kim")
    assert [await console.get_session(s.token_hash, now) for s in kims] == [None, None]
    assert await console.get_session(ann.token_hash, now) == ann


async def test_audit_log_is_newest_first(console: ConsoleStore) -> None:
    for n, action in enumerate(("claimed", "replied", "handed_back")):
        await console.audit(AuditEntry(T0 + timedelta(minutes=n), "kim", action, "C-1", {"n": n}))
    log = await console.audit_log()
    assert [e.action for e in log] == ["handed_back", "replied", "claimed"]
    assert log[0].details == {"n": 2} and log[0].target == "C-1" and log[0].actor == "kim"
    assert len(await console.audit_log(limit=2)) == 2


async def test_a_task_is_marked_done_once_and_keeps_the_first_author(console: ConsoleStore) -> None:
    assert await console.mark_task_done("7", "kim", T0) is True
    assert await console.mark_task_done("7", "ann", T0 + timedelta(hours=1)) is False
    assert await console.task_marks() == {"7": {"done_by": "kim", "done_at": T0.isoformat()}}


async def test_read_marks_only_move_forward(console: ConsoleStore) -> None:
    await console.mark_seen("kim", "C-1", 5)
    await console.mark_seen("kim", "C-1", 3)
    await console.mark_seen("ann", "C-2", 1)
    assert await console.seen("kim") == {"C-1": 5}
    assert await console.seen("ann") == {"C-2": 1}
