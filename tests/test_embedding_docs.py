"""docs/embedding.md shows the example store bots exactly as the tests run them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_documented_examples_are_the_tested_files() -> None:
    doc = (ROOT / "docs" / "embedding.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.DOTALL)
    examples = [(ROOT / "docs" / "examples" / f"{name}_store_bot.py").read_text(encoding="utf-8")
                for name in ("ptb", "aiogram")]  # fmt: skip
    assert blocks == examples
