"""Text handling of the intent matcher: folding a message (case, accents, emoji, repeated letters), cutting
it into clauses (side clauses marked), compiling phrase lists into regexes, and typo correction."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from dialogs.intent_words import EMOJI_WORDS, SIDE_MARKERS

MIN_FUZZY_LEN: Final = 6

_APOSTROPHES = re.compile(r"['’`´]")
_CLAUSE_BREAK = re.compile(r"[.,;:!?¿¡()\n]+|\s[-–—]+\s|\bbut\b|\bpero\b|\bно\b")
_NON_WORD = re.compile(r"[^\w\s]|_")
_REPEATS = re.compile(r"([^\W\d_])\1+")


def fold(text: str) -> str:
    """Lowercase, drop apostrophes and accents, read emoji, collapse repeated letters; keeps punctuation."""
    for emoji, word in EMOJI_WORDS.items():
        text = text.replace(emoji, f" {word} ")
    text = _APOSTROPHES.sub("", text.lower())
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _REPEATS.sub(r"\1", text)


def words(phrase: str) -> list[str]:
    """A phrase of the tables as folded words; a trailing ``*`` (any ending) is kept on its word."""
    found: list[str] = []
    for raw in fold(phrase).split():
        found += _NON_WORD.sub(" ", raw).split()
        if raw.endswith("*") and found:
            found[-1] += "*"
    return found


_SIDE: Final = re.compile(
    r"(?<!\w)("
    + "|".join(sorted({" ".join(words(m)) for ms in SIDE_MARKERS.values() for m in ms}, key=len)[::-1])
    + r")(?!\w)"
)


@dataclass(frozen=True)
class Clause:
    tokens: list[str]
    #: a side remark ("because ...", "although ...", "that's why ..."): it weighs less than the main clause
    side: bool = False


def clauses(text: str) -> list[Clause]:
    """The message folded and cut at punctuation, "but" and side-clause markers."""
    found: list[Clause] = []
    for part in _CLAUSE_BREAK.split(fold(text)):
        line = " ".join(_NON_WORD.sub(" ", part).split())
        pieces = _SIDE.split(line)  # [main, marker, rest, marker, rest, ...]
        if tokens := pieces[0].split():
            found.append(Clause(tokens))
        for rest in pieces[2::2]:
            if tokens := rest.split():
                found.append(Clause(tokens, side=True))
    return found


def compile_phrases(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex per phrase list; longest alternatives first so the most specific phrase wins."""
    alternatives = []
    for ws in sorted((words(p) for p in phrases), key=lambda w: -len(" ".join(w))):
        alternatives.append(r"\s".join(re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in ws))
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)") if alternatives else None


def _deletes(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or swap of neighbours."""
    if len(a) > len(b):
        a, b = b, a
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
    if len(a) < len(b):
        i = diffs[0] if diffs else len(a)
        return len(b) - len(a) == 1 and a[i:] == b[i + 1 :]
    return len(diffs) == 1 or (len(diffs) == 2 and diffs[1] - diffs[0] == 1 and a[diffs[0]] == b[diffs[1]])


@dataclass(frozen=True)
class Vocabulary:
    """Known words and wildcard stems of one language, indexed by single deletions for typo correction."""

    words: frozenset[str]
    stems: frozenset[str]
    by_delete: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(cls, phrases: Iterable[str], common: Iterable[str]) -> Vocabulary:
        known: set[str] = set(common)
        stems: set[str] = set()
        for phrase in phrases:
            for word in words(phrase):
                (stems.add(word[:-1]) if word.endswith("*") else known.add(word))
        index: dict[str, list[str]] = {}
        for word in sorted(known | stems):
            if len(word) >= MIN_FUZZY_LEN:
                for key in _deletes(word):
                    index.setdefault(key, []).append(word)
        return cls(frozenset(known), frozenset(stems), {k: tuple(v) for k, v in index.items()})

    def correct(self, token: str) -> str:
        """Return token, or the single known word/stem within one edit of it (typo fix)."""
        if len(token) < MIN_FUZZY_LEN or token in self.words or any(token.startswith(s) for s in self.stems):
            return token
        near = {c for key in _deletes(token) for c in self.by_delete.get(key, ()) if _one_edit(token, c)}
        near = {c for c in near if c[0] == token[0]}  # buyers rarely mistype the first letter
        if len(known := near & self.words) == 1:
            return known.pop()
        for length in sorted({len(s) for s in self.stems if len(s) > MIN_FUZZY_LEN}, reverse=True):
            head = token[:length]
            near = {c for key in _deletes(head) for c in self.by_delete.get(key, ()) if _one_edit(head, c)}
            near = {c for c in near if c[0] == token[0]}
            if len(stems := near.intersection(self.stems)) == 1:
                return stems.pop() + token[length:]
        return token
