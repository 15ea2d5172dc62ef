"""Shared fixtures. Nothing here touches the network."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LIBRARY = REPO / "meditations"


@pytest.fixture
def write_script(tmp_path: Path) -> Callable[..., Path]:
    """Write a YAML file (dedented) under a temporary library folder and return its path."""

    def write(text: str, name: str = "session.yaml") -> Path:
        path = tmp_path / "library" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write
