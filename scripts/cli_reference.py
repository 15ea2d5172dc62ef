"""Write docs/cli.md, the command reference, from the commands' own --help texts.

    python scripts/cli_reference.py
"""

from __future__ import annotations

from pathlib import Path

from innerchild_audio.cli.reference import cli_reference

PAGE = Path(__file__).resolve().parents[1] / "docs" / "cli.md"

if __name__ == "__main__":
    PAGE.parent.mkdir(exist_ok=True)
    PAGE.write_text(cli_reference(), encoding="utf-8")
    print(f"wrote {PAGE}")
