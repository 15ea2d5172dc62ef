"""Piper's noise drawn from its input: the same sentence is the same take every time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper

from innerchild_audio.model import Voice
from innerchild_audio.speech import piper_noise
from innerchild_audio.speech.piper_engine import PiperEngine, find_voice, load_voice
from innerchild_audio.speech.piper_noise import SeededSession, feed_seed, seeded_model


def _noise_model(path: Path, *, repeat: int = 1, **attributes: object) -> Path:
    """A model whose only output is RandomNormalLike over its input's shape, with the
    input's rows `repeat` times over (as a voice's frames outnumber its phonemes)."""
    nodes = [helper.make_node("Concat", ["x"] * repeat, ["long"], axis=0),
             helper.make_node("RandomNormalLike", ["long"], ["y"], **attributes)]
    graph = helper.make_graph(
        nodes, "noise",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["a", "b"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["c", "b"])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)]), path)
    return path


def _session(path: Path) -> SeededSession:
    model, names = seeded_model(path)
    return SeededSession(onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"]),
                         names)


def _draws(feed: dict[str, np.ndarray], count: int) -> np.ndarray:
    """The first `count` values a SeededSession feeds its (only) noise input."""
    stream = np.random.SeedSequence(feed_seed(feed)).spawn(1)[0]
    return np.random.default_rng(stream).standard_normal(count, np.float32)


def test_the_noise_node_becomes_draws_seeded_by_the_feed(tmp_path: Path) -> None:
    session = _session(_noise_model(tmp_path / "m.onnx", mean=3.0, scale=2.0))
    feed = {"x": np.zeros((3, 5), np.float32)}
    (first,) = session.run(None, feed)  # the model's own outputs only
    (again,) = session.run(["y"], feed)
    assert first.shape == (3, 5) and np.array_equal(first, again)
    # the node's own mean and scale kept, on standard normal draws taken in order
    assert np.allclose(first, (_draws(feed, 15) * 2.0 + 3.0).reshape(3, 5))
    (other,) = session.run(None, {"x": np.ones((3, 5), np.float32)})
    assert not np.allclose(first, other)  # another input, other draws
    model, names = seeded_model(tmp_path / "m.onnx")
    inner = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    (take_1,) = SeededSession(inner, names, take=1).run(None, feed)
    assert not np.allclose(first, take_1)  # another take, other draws
    assert np.array_equal(take_1, SeededSession(inner, names, take=1).run(None, feed)[0])


def test_the_draws_look_like_the_nodes_own(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(piper_noise, "NOISE_PER_ID", 1)  # a value per input value will do
    session = _session(_noise_model(tmp_path / "m.onnx"))
    (values,) = session.run(None, {"x": np.zeros((400, 500), np.float32)})
    assert abs(float(values.mean())) < 0.01 and abs(float(values.std()) - 1.0) < 0.01


def test_a_noise_input_too_short_grows_and_gives_the_same_draws(tmp_path: Path,
                                                                  monkeypatch) -> None:
    path = _noise_model(tmp_path / "m.onnx", repeat=50)
    feed = {"x": np.zeros((20, 30), np.float32)}
    (roomy,) = _session(path).run(None, feed)
    assert roomy.shape == (1000, 30)
    monkeypatch.setattr(piper_noise, "MIN_NOISE", 1)
    monkeypatch.setattr(piper_noise, "NOISE_PER_ID", 1)
    tight = _session(path)  # 50 values per input value needed: offered 1, 4, 16, then 64
    (grown,) = tight.run(None, feed)
    assert np.array_equal(roomy, grown)
    # then it offers twice what was used, and the same draws again
    assert [piper_noise.HEADROOM * most for most in tight._most] == [piper_noise.HEADROOM * 50]
    assert np.array_equal(roomy, tight.run(None, feed)[0])


def test_other_failures_are_raised_at_once(tmp_path: Path) -> None:
    session = _session(_noise_model(tmp_path / "m.onnx"))
    with pytest.raises(Exception, match="x"):
        session.run(None, {"x": np.zeros(3, np.float32)})  # the wrong rank
    assert session._most == [0.0]  # not taken for a short noise: no size learnt or grown


def test_the_bundled_voice_has_its_two_noises_fed_by_seed() -> None:
    model, names = seeded_model(find_voice("joe").model)
    nodes = onnx.load_from_string(model).graph.node
    assert names == ("innerchild_noise_0", "innerchild_noise_1")  # durations, then sound
    assert not [n for n in nodes if n.op_type.startswith("Random")]


def _take(voice, text: str) -> np.ndarray:
    return np.concatenate([c.audio_float_array for c in voice.synthesize(text)])


def test_two_loads_of_joe_speak_a_sentence_as_the_same_take() -> None:
    files = find_voice("joe")
    first, second = load_voice(files, 1), load_voice(files, 1)
    text = "Hold. Let the breath rest, as long as it likes."
    take = _take(first, text)
    assert np.array_equal(take, _take(second, text))
    assert np.array_equal(take, _take(first, text))  # and the same session once more
    assert not np.array_equal(_take(first, "Hold. Let it rest."), take[: len(take) // 2])


def test_another_process_makes_the_same_paced_clip(tmp_path: Path) -> None:
    text = "You can rest here, for as long as you like, and come back when you are ready."
    voice = Voice(engine="piper", rate=0.86)
    here = PiperEngine().synthesize(text, voice)
    out = tmp_path / "there.npy"
    code = ("import sys, numpy as np\n"
            "from innerchild_audio.model import Voice\n"
            "from innerchild_audio.speech.piper_engine import PiperEngine\n"
            "clip = PiperEngine().synthesize(sys.argv[1], Voice(engine='piper', "
            "rate=0.86))\n"
            "np.save(sys.argv[2], clip.samples)\n")
    subprocess.run([sys.executable, "-c", code, text, str(out)], check=True, timeout=120)
    assert np.array_equal(here.samples, np.load(out))


def test_a_script_rendered_twice_from_cold_caches_is_the_same_file(tmp_path: Path) -> None:
    from innerchild_audio.options import RenderOptions, RunSettings
    from innerchild_audio.render import render_script

    script = tmp_path / "twice.yaml"
    script.write_text("title: Twice\nvoice: {engine: piper}\nsteps:\n"
                      "  - say: Let your shoulders soften, and rest here a while.\n"
                      "  - pause: 2s\n  - say: You are welcome, just as you are.\n",
                      encoding="utf-8")
    made = [render_script(script, RenderOptions(),
                          RunSettings(out_dir=tmp_path / f"out{n}", cache_dir=tmp_path / f"c{n}"))
            for n in (1, 2)]
    assert made[0].speech_synthesized == made[1].speech_synthesized == 2
    assert made[0].mp3_path.read_bytes() == made[1].mp3_path.read_bytes()
