"""The clip cache: keys, atomic entries, folder resolution, and `innerchild cache`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import platformdirs
import pytest
from click.testing import CliRunner

from innerchild_audio.cli import main
from innerchild_audio.speech import Clip, ClipCache, resolve_cache_dir, resolve_voices_dir
from innerchild_audio.speech.cache import cache_key

IDENTITY = {"lang": "en", "tld": "co.uk", "rate": 0.9, "gtts": "2.5.4"}


def clip(seconds: float = 0.5, rate: int = 24000) -> Clip:
    t = np.arange(int(rate * seconds)) / rate
    return Clip((0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), rate)


def test_round_trip_keeps_samples_and_rate_exactly(tmp_path):
    cache = ClipCache(tmp_path)
    key = cache_key("gtts", IDENTITY, "Rest.")
    assert cache.get("gtts", key) is None
    original = clip()
    cache.put("gtts", key, original)
    back = cache.get("gtts", key)
    assert back is not None and back.sample_rate == 24000
    assert np.array_equal(back.samples, original.samples)
    assert back.samples.dtype == np.float32
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []


@pytest.mark.parametrize(
    "change",
    [
        {"engine": "piper"},
        {"text": "Rest!"},
        {"identity": {**IDENTITY, "rate": 1.0}},
        {"identity": {**IDENTITY, "tld": "com"}},
        {"identity": {**IDENTITY, "gtts": "2.5.5"}},
    ],
)
def test_key_changes_with_everything_that_changes_the_audio(change):
    base = {"engine": "gtts", "identity": IDENTITY, "text": "Rest."}
    other = {**base, **change}
    assert cache_key(base["engine"], base["identity"], base["text"]) != cache_key(
        other["engine"], other["identity"], other["text"]
    )


def test_key_ignores_dict_order():
    reordered = dict(reversed(list(IDENTITY.items())))
    assert cache_key("gtts", IDENTITY, "a") == cache_key("gtts", reordered, "a")


def test_a_failed_write_leaves_no_entry(tmp_path, monkeypatch):
    cache = ClipCache(tmp_path)
    key = cache_key("gtts", IDENTITY, "Rest.")

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(OSError):
        cache.put("gtts", key, clip())
    assert cache.get("gtts", key) is None
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_an_unreadable_entry_is_dropped_and_counts_as_missing(tmp_path):
    cache = ClipCache(tmp_path)
    key = cache_key("gtts", IDENTITY, "Rest.")
    cache.put("gtts", key, clip())
    path = next(tmp_path.rglob("*.npz"))
    path.write_bytes(path.read_bytes()[:100])  # truncated
    assert cache.get("gtts", key) is None
    assert not path.exists()


def test_info_and_clear(tmp_path):
    cache = ClipCache(tmp_path)
    for i in range(3):
        cache.put("gtts", cache_key("gtts", IDENTITY, f"t{i}"), clip())
    cache.put("piper", cache_key("piper", {}, "t"), clip(rate=22050))
    info = cache.info()
    assert info.entries == 4 and info.by_engine == {"gtts": 3, "piper": 1}
    assert info.bytes == sum(p.stat().st_size for p in tmp_path.rglob("*.npz"))
    removed = cache.clear("piper")
    assert removed.entries == 1 and cache.info().by_engine == {"gtts": 3}
    assert cache.clear().entries == 3
    assert cache.info().entries == 0


def test_cache_folder_option_beats_environment_beats_default(tmp_path, monkeypatch):
    monkeypatch.delenv("INNERCHILD_CACHE_DIR", raising=False)
    default = resolve_cache_dir()
    assert default.is_relative_to(Path(platformdirs.user_cache_dir("innerchild-audio")))
    monkeypatch.setenv("INNERCHILD_CACHE_DIR", str(tmp_path / "env"))
    assert resolve_cache_dir() == tmp_path / "env"
    assert resolve_cache_dir(tmp_path / "opt") == tmp_path / "opt"


def test_voices_folder_option_beats_environment_beats_default(tmp_path, monkeypatch):
    monkeypatch.delenv("INNERCHILD_VOICES_DIR", raising=False)
    assert resolve_voices_dir() == Path(platformdirs.user_data_dir("innerchild-audio")) / "voices"
    monkeypatch.setenv("INNERCHILD_VOICES_DIR", str(tmp_path / "env"))
    assert resolve_voices_dir() == tmp_path / "env"
    assert resolve_voices_dir(tmp_path / "opt") == tmp_path / "opt"


def test_cli_cache_info_and_clear(tmp_path):
    cache = ClipCache(tmp_path)
    for i in range(2):
        cache.put("gtts", cache_key("gtts", IDENTITY, f"t{i}"), clip())
    runner = CliRunner()
    shown = runner.invoke(main, ["cache", "info", "--cache-dir", str(tmp_path)])
    assert shown.exit_code == 0, shown.output
    assert f"folder:  {tmp_path}" in shown.output and "clips:   2" in shown.output
    assert "gtts: 2" in shown.output
    by_env = runner.invoke(main, ["cache", "info"], env={"INNERCHILD_CACHE_DIR": str(tmp_path)})
    assert "clips:   2" in by_env.output
    cleared = runner.invoke(main, ["cache", "clear", "--cache-dir", str(tmp_path)])
    assert cleared.exit_code == 0 and "removed 2 clips" in cleared.output
    assert ClipCache(tmp_path).info().entries == 0


def test_cli_cache_commands_have_help():
    runner = CliRunner()
    for args in (["cache"], ["cache", "info"], ["cache", "clear"]):
        shown = runner.invoke(main, [*args, "--help"])
        assert shown.exit_code == 0 and "Usage:" in shown.output
