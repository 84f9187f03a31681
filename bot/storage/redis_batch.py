"""Round trips shared by concurrent callers: commands issued while the loop
is busy ride to Redis together in one pipeline.

Every queued command is atomic on its own (a single command or a script), so
sending several callers' commands in one non-transactional pipeline gives each
caller exactly what it would get alone, for one round trip instead of many:
a burst of Telegram updates, sender claims or worker loads costs a few round
trips, not one each. Scripts go by their SHA1 (EVALSHA), not their text: the
text goes again only when Redis answers NOSCRIPT (after a restart)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any

import hiredis
from redis.exceptions import DataError, NoScriptError

Command = tuple[Any, ...]
Queued = tuple[Sequence[Command], "asyncio.Future[list[Any]]"]


def _sha(script: str, known: dict[str, str] = {}) -> str:  # noqa: B006 - a deliberate cache
    sha = known.get(script)
    if sha is None:
        sha = known[script] = hashlib.sha1(script.encode()).hexdigest()
    return sha


def by_sha(command: Command) -> Command:
    """EVAL script ... as EVALSHA sha ... (other commands unchanged)."""
    if command[0] != "EVAL":
        return command
    return ("EVALSHA", _sha(command[1]), *command[2:])


class _PackInC:
    """`pack_command` by hiredis (C) instead of redis-py's asyncio code, which
    packs in Python: ~0.8 us an argument, ~44 us for a commit script's 50 or
    so, all on the serving loop (redis-py's sync client already uses hiredis
    when it is installed; hiredis takes ~5 us for the same). Arguments as
    redis-py's encoder takes them: str (UTF-8), bytes, int, float (written
    as repr() writes it, as redis-py does). It is redis-py's sync
    `HiredisRespSerializer.pack` but for its pass over every argument (to
    convert memoryviews), done here only when hiredis refuses one: that pass
    alone costs what packing in C saves on a burst."""

    def pack_command(self, *args: Any) -> list[bytes]:
        head = args[0]
        if isinstance(head, str):  # "CONFIG SET" and the like: words go separately
            args = (*head.encode().split(), *args[1:])
        elif b" " in head:
            args = (*head.split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except TypeError:  # e.g. a memoryview: what redis-py takes, converted
            return [hiredis.pack_command(tuple(_encodable(arg) for arg in args))]


def _encodable(arg: Any) -> Any:
    if isinstance(arg, (bytearray, memoryview)):
        return bytes(arg)
    if isinstance(arg, (str, bytes, int, float)) and not isinstance(arg, bool):
        return arg
    raise DataError(f"Invalid input of type: {type(arg).__name__!r}. Convert to a bytes, string, int or float first.")


def pack_in_c(pool: Any) -> None:
    """Make `pool`'s connections pack commands with hiredis (see `_PackInC`)."""
    base = pool.connection_class
    if not issubclass(base, _PackInC):
        pool.connection_class = type(f"PackInC{base.__name__}", (_PackInC, base), {})


#: about the most arguments, and commands, in one pipeline: packing and
#: parsing a pipeline holds the loop (redis-py parses each reply on its own,
#: ~30-60 us a command, twice in MULTI/EXEC), so a burst goes out as several
#: pipelines, started on successive turns of the loop (a commit script has
#: 20-60 arguments; a locked load is 3 commands a conversation)
MAX_ARGS = 1_000
MAX_COMMANDS = 64


def _chunks(queued: list[Queued]) -> list[list[Queued]]:
    """Whole groups, about MAX_ARGS arguments and MAX_COMMANDS commands a chunk."""
    chunks: list[list[Queued]] = []
    size = count = MAX_ARGS + MAX_COMMANDS
    for item in queued:
        weight = sum(len(command) for command in item[0])
        if size + weight > MAX_ARGS or count + len(item[0]) > MAX_COMMANDS:
            chunks.append([])
            size = count = 0
        chunks[-1].append(item)
        size += weight
        count += len(item[0])
    return chunks


class Coalescer:
    def __init__(self, client: Any) -> None:
        self._client = client
        self._queued: list[Queued] = []
        #: groups that must run in MULTI/EXEC (several groups may share one)
        self._transactions: list[Queued] = []
        self._flushing: set[asyncio.Task[None]] = set()

    async def call(self, *command: Any) -> Any:
        """One command, e.g. `call("GET", key)`; its reply as redis-py parses it."""
        (reply,) = await self.call_many([command])
        return reply

    def call_many(self, commands: Sequence[Command]) -> asyncio.Future[list[Any]]:
        """Several commands, sent in this order on one connection; their
        replies, or the first error among them."""
        return self._queue(self._queued, commands)

    def transact(self, commands: Sequence[Command]) -> asyncio.Future[list[Any]]:
        """Commands that must run together with no other client's in between
        (MULTI/EXEC); other callers' groups may join the same transaction,
        which only makes them more isolated. Their replies, or the first error.
        A group is all calls of one script, or has no script at all: then a
        NOSCRIPT answer (the script is not loaded) fails all of it or none."""
        if len({command[1] if command[0] == "EVAL" else None for command in commands}) > 1:
            raise ValueError("a transaction calls one script, or none")
        return self._queue(self._transactions, commands)

    def _queue(self, queue: list[Queued], commands: Sequence[Command]) -> asyncio.Future[list[Any]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        if not commands:
            future.set_result([])
            return future
        if not self._queued and not self._transactions:
            # two turns of the loop: the callers ready now, then the ones they wake
            loop.call_soon(loop.call_soon, self._flush)
        queue.append((commands, future))
        return future

    def _flush(self) -> None:
        chunks = [(batch, False) for batch in _chunks(self._queued)]
        chunks += [(batch, True) for batch in _chunks(self._transactions)]
        self._queued, self._transactions = [], []
        self._start(chunks)

    def _start(self, chunks: list[tuple[list[Queued], bool]]) -> None:
        """One chunk now, the next on the loop's next turn: packing them all in
        one turn would hold the loop as long as one huge pipeline."""
        loop = asyncio.get_running_loop()
        batch, transaction = chunks[0]
        task = loop.create_task(self._send(batch, transaction))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)
        if len(chunks) > 1:
            loop.call_soon(self._start, chunks[1:])

    async def _send(self, batch: list[Queued], transaction: bool) -> None:
        commands = [command for group, _ in batch for command in group]
        try:
            replies = await self._execute([by_sha(command) for command in commands], transaction)
            missing = [n for n, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if missing:  # Redis lost its scripts (a restart): those did not run; send their text
                again = await self._execute([commands[n] for n in missing], transaction)
                for n, reply in zip(missing, again, strict=True):
                    replies[n] = reply
        except BaseException as exc:  # the connection: every caller sees it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        at = 0
        for group, future in batch:
            mine = replies[at : at + len(group)]
            at += len(group)
            if future.done():  # the caller gave up (cancelled)
                continue
            error = next((r for r in mine if isinstance(r, Exception)), None)
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(mine)

    async def _execute(self, commands: Sequence[Command], transaction: bool) -> list[Any]:
        async with self._client.pipeline(transaction=transaction) as pipe:
            for command in commands:
                pipe.execute_command(*command)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies

    async def close(self) -> None:
        if self._flushing:
            await asyncio.gather(*self._flushing, return_exceptions=True)
