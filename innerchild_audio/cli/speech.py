"""`innerchild` commands: speech."""

from innerchild_audio.cli.app import main  # noqa: F401
