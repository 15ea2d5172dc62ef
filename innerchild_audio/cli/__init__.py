"""Command line: thin click commands over the library (see `app.py` for the glue)."""

from innerchild_audio.cli import (  # noqa: F401  (registers the commands)
    authoring,
    batch,
    publish,
    render,
    script,
    speech,
    voices,
)
from innerchild_audio.cli.app import main

__all__ = ["main"]
