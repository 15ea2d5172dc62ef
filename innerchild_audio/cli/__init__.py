"""Command line: thin click commands over the library (see `app.py` for the glue)."""

from innerchild_audio.cli import publish, render, script, speech, voices  # noqa: F401
from innerchild_audio.cli.app import main

__all__ = ["main"]
