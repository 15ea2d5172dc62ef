"""`innerchild check`, `plan` and `schema` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from conftest import LIBRARY

from innerchild_audio.cli import main
from innerchild_audio.schema import schema

SCRIPT = """
title: Plan me
vars: {name: friend}
steps:
  - chapter: Arriving
  - bell: {}
  - say: Hello {name}. Settle in.
  - pause: {min: 10s, max: 2m}
  - chapter: Resting
  - say: Rest here.
  - pause: {min: 5s, max: 1m, default: 20s}
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_check_library_is_ok():
    result = run("check", str(LIBRARY))
    assert result.exit_code == 0, result.output
    assert result.output.count("ok  ") >= 9


def test_check_reports_all_problems_with_exit_2(write_script):
    write_script("steps:\n  - include: b.yaml\n", "parts/a.yaml")
    write_script("steps:\n  - include: a.yaml\n", "parts/b.yaml")
    path = write_script("title: Bad\nlenght: 10m\nsteps:\n  - say: Hi {nme}.\n"
                        "  - pause: 5 seconds\n  - include: parts/a.yaml\n")
    result = run("check", str(path))
    assert result.exit_code == 2
    out = result.output
    for where in (":2:1: unknown key 'lenght'", ":4:13: unknown variable {nme}",
                  ":5:12: pause:", "b.yaml:2:14: include cycle"):
        assert where in out
    assert "Traceback" not in out


def test_check_in_a_subprocess_has_no_traceback(write_script):
    path = write_script("title: T\nsteps:\n  - paus: 3s\n")
    done = subprocess.run([sys.executable, "-m", "innerchild_audio", "check", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "did you mean 'pause'" in done.stderr and "Traceback" not in done.stderr


def test_plan_hits_the_target_exactly(write_script):
    path = write_script(SCRIPT)
    result = run("plan", str(path), "--length", "2m", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total_ms"] == 120_000 and data["target_ms"] == 120_000
    assert [c["title"] for c in data["chapters"]] == ["Arriving", "Resting"]
    assert data["chapters"][0]["start_ms"] == 0
    starts = [s["start_ms"] for s in data["steps"]]
    assert starts == sorted(starts)
    last = data["steps"][-1]
    assert last["start_ms"] + last["duration_ms"] == 120_000


def test_plan_text_shows_steps_chapters_and_total(write_script):
    path = write_script(SCRIPT)
    result = run("plan", str(path), "--length", "90s", "--var", "name=Sam")
    assert result.exit_code == 0, result.output
    assert "── Arriving" in result.output and "── Resting" in result.output
    assert '"Hello Sam."' in result.output
    assert "total 1m30s" in result.output
    assert "reachable" in result.output


def test_plan_out_of_reach_states_the_range(write_script):
    path = write_script(SCRIPT)
    result = run("plan", str(path), "--length", "30m")
    assert result.exit_code == 2
    assert "session.yaml: length 30m is out of reach: this script runs" in result.output
    assert "Traceback" not in result.output


def test_plan_bad_length_and_var(write_script):
    path = write_script(SCRIPT)
    assert run("plan", str(path), "--length", "soon").exit_code == 2
    assert run("plan", str(path), "--var", "novalue").exit_code == 2


def test_schema_command_prints_the_shipped_schema():
    result = run("schema")
    assert result.exit_code == 0
    assert json.loads(result.output) == schema()


SCRIPT_FILES = [p for p in sorted(LIBRARY.glob("*.yaml")) + sorted(LIBRARY.glob("parts/*"))
                if p.name != "podcast.yaml"]  # channel metadata, not a script


@pytest.mark.parametrize("path", SCRIPT_FILES, ids=lambda p: p.name)
def test_library_validates_against_the_schema(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "title" not in data:  # parts carry only steps
        data["title"] = "part"
    jsonschema.validate(data, schema())


@pytest.mark.parametrize("bad", [{"title": "T", "steps": [{"paus": "3s"}]},
                                 {"title": "T", "steps": [{"pause": "5 seconds"}]},
                                 {"title": "T", "lenght": "3m", "steps": []},
                                 {"steps": [{"say": "x"}]}])
def test_schema_refuses_invalid_documents(bad):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema())


def test_check_a_glob_skips_the_channel_file():
    paths = [str(p) for p in sorted(LIBRARY.glob("*.yaml"))]
    assert any(p.endswith("podcast.yaml") for p in paths)
    result = run("check", *paths)
    assert result.exit_code == 0, result.output
    assert "podcast.yaml" not in result.stdout


def test_a_session_over_three_hours_is_refused(write_script):
    path = write_script("title: Long\nsteps:\n  - say: Hi.\n"
                        "  - repeat: {times: 4, steps: "
                        "[{pause: {min: 1s, max: 1h, default: 50m}}]}\n")
    result = run("check", str(path))
    assert result.exit_code == 2
    assert "at most 3h" in result.output
