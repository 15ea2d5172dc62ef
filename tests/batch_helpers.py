"""The script the batch and Dask tests render for many listeners."""

from __future__ import annotations


def letter_script(longest_pause: str = "30s") -> str:
    """A short letter to `{name}`; its elastic pause reaches `longest_pause`."""
    return f"""\
title: Letter
voice: {{engine: piper, rate: 1.0}}
lead_in: 0  # these tests are about rows and workers: lengths short and exact
tail: 0
vars:
  name: friend
steps:
  - say: Hello, {{name}}.
  - pause: {{min: 1s, max: {longest_pause}}}
  - say: You are welcome here.
"""
