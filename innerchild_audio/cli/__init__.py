"""Command line: thin click commands over the library (see `app.py` for the glue)."""

from innerchild_audio.cli import authoring, publish, render, script, speech  # noqa: F401  (registers)
from innerchild_audio.cli.app import main

__all__ = ["main"]
