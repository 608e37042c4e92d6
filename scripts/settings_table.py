"""Rewrite the settings table in README.md from sitedir/settings.py (run after adding one)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sitedir.settings import SETTINGS  # noqa: E402

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def table() -> str:
    rows = ["| setting | default | what it does |", "| --- | --- | --- |"]
    for setting in SETTINGS:
        default = "(generated)" if setting.default is None else f"`{setting.default!r}`"
        rows.append(f"| `{setting.name}` | {default} | {setting.help.replace('|', '/')} |")
    return "\n".join(rows)


def main() -> None:
    text = README.read_text()
    new = re.sub(f"{START}.*?{END}", f"{START}\n{table()}\n{END}", text, flags=re.S)
    README.write_text(new)


if __name__ == "__main__":
    main()
