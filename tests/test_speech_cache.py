"""The clip cache: keys, atomic entries, folder resolution, and `innerchild cache`."""

from __future__ import annotations

import errno
import logging
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import platformdirs
import pytest
import responses
from click.testing import CliRunner
from speech_helpers import FakeGoogle, no_sleep_policy, speech_ms

from innerchild_audio.cli import main
from innerchild_audio.model import Voice
from innerchild_audio.speech import (
    Clip,
    ClipCache,
    resolve_cache_dir,
    resolve_voices_dir,
    synthesize_all,
)
from innerchild_audio.speech import cache as cache_module
from innerchild_audio.speech.cache import cache_key
from innerchild_audio.speech.gtts_engine import GttsEngine
from innerchild_audio.timeline import SpeechRequest

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


def test_a_failed_write_leaves_no_entry_and_stops_writing(tmp_path, monkeypatch, caplog):
    cache = ClipCache(tmp_path)
    key = cache_key("gtts", IDENTITY, "Rest.")
    tries: list[int] = []

    def explode(*args, **kwargs):
        tries.append(1)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", explode)
    with caplog.at_level(logging.WARNING):
        assert cache.put("gtts", key, clip()) is False
        assert cache.put("gtts", cache_key("gtts", IDENTITY, "Again."), clip()) is False
    assert len(tries) == 1  # the second clip is not even tried
    assert cache.get("gtts", key) is None
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert [r.getMessage() for r in caplog.records] == [
        f"cannot write the speech cache in {tmp_path} (No space left on device); "
        "going on without caching"
    ]


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


def _under_a_file(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "occupied").write_text("a file where the cache folder should be")
    return tmp_path / "occupied" / "cache"


def _disk_full(tmp_path: Path, monkeypatch) -> Path:
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    return tmp_path / "cache"


def _read_only(tmp_path: Path, monkeypatch) -> Path:
    def refuse(*args, **kwargs):  # chmod does not stop root, so the refusal is injected
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(cache_module.tempfile, "mkstemp", refuse)
    return tmp_path / "cache"


def _cleared_meanwhile(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    real = tempfile.mkstemp

    def clear_then_create(*args, **kwargs):  # `cache clear` runs between mkdir and the write
        shutil.rmtree(root, ignore_errors=True)
        return real(*args, **kwargs)

    monkeypatch.setattr(cache_module.tempfile, "mkstemp", clear_then_create)
    return root


def _vanishes_before_rename(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    real = cache_module.os.replace

    def gone(source, target):
        shutil.rmtree(root, ignore_errors=True)
        return real(source, target)

    monkeypatch.setattr(cache_module.os, "replace", gone)
    return root


@pytest.mark.parametrize(
    "make_unwritable",
    [_under_a_file, _disk_full, _read_only, _cleared_meanwhile, _vanishes_before_rename],
    ids=["under-a-file", "disk-full", "read-only", "cleared-meanwhile", "vanishes-before-rename"],
)
def test_an_unwritable_cache_warns_once_and_the_synthesis_goes_on(
    tmp_path, monkeypatch, caplog, make_unwritable
):
    root = make_unwritable(tmp_path, monkeypatch)
    texts = ["Rest now, and breathe slowly.", "Let your shoulders drop.", "You are safe here."]
    requests_ = [SpeechRequest(text, Voice(engine="gtts", rate=1.0)) for text in texts]
    engine = GttsEngine(retry=no_sleep_policy(), share_requests=False)
    with responses.RequestsMock() as mock, caplog.at_level(logging.WARNING):
        FakeGoogle().install(mock)
        result = synthesize_all(requests_, engine="gtts", cache_dir=root,
                                engines={"gtts": engine})
    assert result.synthesized == 3
    for request in requests_:
        assert abs(result.clips[request].duration_ms - (speech_ms(request.text) + 80)) <= 30
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"cannot write the speech cache in {root}" in warnings[0]
    assert "going on without caching" in warnings[0]
    assert list(tmp_path.rglob("*.npz")) == []


def _entry(tmp_path: Path) -> tuple[ClipCache, str, Path]:
    cache = ClipCache(tmp_path)
    key = cache_key("gtts", IDENTITY, "Rest.")
    cache.put("gtts", key, clip())
    return cache, key, next(tmp_path.rglob("*.npz"))


def _npz(path: Path, **arrays) -> None:
    with path.open("wb") as handle:
        np.savez(handle, **arrays)


CORRUPTIONS = {
    "empty": lambda path: path.write_bytes(b""),
    "garbage": lambda path: path.write_bytes(b"\x00not a zip at all" * 10),
    "zip-without-arrays": lambda path: zipfile.ZipFile(path, "w").writestr("x.txt", "hello"),
    "two-dimensional": lambda path: _npz(path, samples=np.zeros((2, 50), np.float32),
                                         sample_rate=np.int64(24000)),
    "no-rate": lambda path: _npz(path, samples=np.zeros(50, np.float32)),
    "zero-rate": lambda path: _npz(path, samples=np.zeros(50, np.float32),
                                   sample_rate=np.int64(0)),
    "not-numbers": lambda path: _npz(path, samples=np.full(50, np.nan, np.float32),
                                     sample_rate=np.int64(24000)),
    "text-samples": lambda path: _npz(path, samples=np.array(["a", "b"]),
                                      sample_rate=np.int64(24000)),
}


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_a_corrupt_entry_is_a_miss_and_is_replaced(tmp_path, name, caplog):
    cache, key, path = _entry(tmp_path)
    CORRUPTIONS[name](path)
    with caplog.at_level(logging.WARNING):
        assert cache.get("gtts", key) is None
    assert not path.exists()
    assert any("dropping corrupt cache entry" in m for m in caplog.messages)
    assert cache.put("gtts", key, clip()) is True
    assert cache.get("gtts", key) is not None


def test_an_entry_that_cannot_be_read_is_a_miss_left_in_place(tmp_path, caplog):
    cache, key, path = _entry(tmp_path)
    path.unlink()
    path.mkdir()  # a folder where the entry should be: reading fails, removing would too
    with caplog.at_level(logging.WARNING):
        assert cache.get("gtts", key) is None and path.is_dir()
        assert cache.get("gtts", key) is None
    assert cache.has("gtts", key) is False
    assert len(caplog.records) == 1 and "cannot read cache entry" in caplog.messages[0]


def test_a_cache_under_a_file_reads_as_empty(tmp_path):
    (tmp_path / "occupied").write_text("x")
    cache = ClipCache(tmp_path / "occupied")
    key = cache_key("gtts", IDENTITY, "Rest.")
    assert cache.get("gtts", key) is None and cache.has("gtts", key) is False
    assert cache.info().entries == 0 and cache.clear().entries == 0


def test_info_skips_entries_removed_while_it_counts(tmp_path, monkeypatch):
    cache = ClipCache(tmp_path)
    for i in range(3):
        cache.put("gtts", cache_key("gtts", IDENTITY, f"t{i}"), clip())
    real_stat = Path.stat
    gone = next(tmp_path.rglob("*.npz"))

    def stat(self, **kwargs):
        if self == gone:
            raise FileNotFoundError(2, "No such file or directory", str(self))
        return real_stat(self, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    assert cache.info().entries == 2
