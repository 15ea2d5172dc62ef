"""Piper takes that come out the same every time: the model's noise drawn from its input.

A Piper (VITS) model draws two noises inside its ONNX graph with
RandomNormalLike: one shapes the durations, one the sound of the voice.
onnxruntime seeds them anew for every session, so the same sentence was a
different take in every run, and no render of a Piper script could be made
twice. Here each such node is replaced by a slice of a new graph input, and
`SeededSession.run` fills those inputs with standard normal noise from a
generator seeded by everything the model is given (phoneme ids, scales,
speaker): the same text, voice and settings give the same take in any process,
in any order, on any machine with the same onnxruntime.

    session = SeededSession(onnxruntime.InferenceSession(seeded_model(path)), noise_names)
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

NOISE_VERSION: Final = 1  # part of the cache key: takes from random noise are not reused
NOISE_INPUT_PREFIX: Final = "innerchild_noise_"
# Noise values offered per phoneme id at first: the largest noise (192 channels of
# the voice's frames) needs about 192 x frames; a phoneme rarely lasts 32 frames.
NOISE_PER_ID: Final = 192 * 32
MAX_NOISE_PER_ID: Final = 192 * 512  # 6 s a phoneme on average: no voice's take needs more
HEADROOM: Final = 2.0  # offered per value over the most a run has used yet
MIN_NOISE: Final = 1 << 12
_GROWTH: Final = 4


def seeded_model(model: Path) -> tuple[bytes, tuple[str, ...]]:
    """The model at `model` with every RandomNormalLike node fed from a graph input
    (1-D float32, at least as long as the noise it stands for), serialized, and the
    names of those inputs in the order the nodes come. Made once a process while the
    file is unchanged (a pool loads one session per worker thread)."""
    stat = model.stat()
    return _seeded_model(str(model), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1)
def _seeded_model(model: str, mtime_ns: int, size: int) -> tuple[bytes, tuple[str, ...]]:
    import onnx
    from onnx import TensorProto, helper

    proto = onnx.load(model)
    graph = proto.graph
    nodes = list(graph.node)
    names: list[str] = []
    rebuilt = []
    for node in nodes:
        if node.op_type != "RandomNormalLike" or node.domain not in ("", "ai.onnx"):
            rebuilt.append(node)
            continue
        name = f"{NOISE_INPUT_PREFIX}{len(names)}"
        names.append(name)
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n"]))
        # and how much of it was used, so the next run offers about that much
        graph.output.append(helper.make_tensor_value_info(count_name(name), TensorProto.INT64,
                                                          [1]))
        rebuilt.extend(_noise_nodes(node, name))
    if not names:
        return proto.SerializeToString(), ()
    del graph.node[:]
    graph.node.extend(rebuilt)
    return proto.SerializeToString(), tuple(names)


def count_name(noise: str) -> str:
    """The graph output that tells how many values of the input `noise` a run used."""
    return f"{noise}/count"


def _noise_nodes(node: Any, noise: str) -> list[Any]:
    """Nodes that do what `node` (RandomNormalLike) did, with `noise` as its draws."""
    from onnx import TensorProto, helper

    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    like, out = node.input[0], node.output[0]
    p = f"{noise}/"
    made = [
        helper.make_node("Shape", [like], [p + "shape"]),
        helper.make_node("ReduceProd", [p + "shape"], [count_name(noise)], keepdims=1),
        helper.make_node("Constant", [], [p + "zero"],
                         value=helper.make_tensor(p + "zero_value", TensorProto.INT64, [1], [0])),
        helper.make_node("Slice", [noise, p + "zero", count_name(noise), p + "zero"],
                         [p + "flat"]),
    ]
    value = p + "shaped"
    # named, so that a noise input too short to fill it is told by the error
    made.append(helper.make_node("Reshape", [p + "flat", p + "shape"], [value],
                                 name=p + "reshape"))
    scale, mean = float(attrs.get("scale", 1.0)), float(attrs.get("mean", 0.0))
    if scale != 1.0:
        made.append(_constant(p + "scale", scale))
        made.append(helper.make_node("Mul", [value, p + "scale"], [p + "scaled"]))
        value = p + "scaled"
    if mean != 0.0:
        made.append(_constant(p + "mean", mean))
        made.append(helper.make_node("Add", [value, p + "mean"], [p + "moved"]))
        value = p + "moved"
    dtype = int(attrs.get("dtype", TensorProto.FLOAT))
    if dtype == TensorProto.FLOAT:
        made.append(helper.make_node("Identity", [value], [out]))
    else:
        made.append(helper.make_node("Cast", [value], [out], to=dtype))
    return made


def _constant(name: str, value: float) -> Any:
    from onnx import TensorProto, helper

    return helper.make_node("Constant", [], [name],
                            value=helper.make_tensor(name + "_value", TensorProto.FLOAT, [],
                                                     [value]))


class SeededSession:
    """An onnxruntime session of a `seeded_model`: `run` takes the same feed as the
    original model's, supplies the noise, seeded by that feed, and returns the
    original model's outputs. Another `take` draws other noise for every feed (the
    listening scripts compare takes)."""

    def __init__(self, session: Any, noise_names: Sequence[str], *, take: int = 0):
        self._session = session
        self._noise_names = tuple(noise_names)
        self._counts = [count_name(n) for n in self._noise_names]
        self._outputs = [o.name for o in session.get_outputs() if o.name not in self._counts]
        self._take = take
        # per noise, the most values a run has used per input value (0: none run yet)
        self._most = [0.0] * len(self._noise_names)

    def __getattr__(self, name: str) -> Any:  # get_inputs, ... as the session's
        return getattr(self._session, name)

    def get_outputs(self) -> list[Any]:
        return [o for o in self._session.get_outputs() if o.name not in self._counts]

    def run(self, output_names: Sequence[str] | None, input_feed: Mapping[str, np.ndarray],
            run_options: Any = None) -> list[np.ndarray]:
        wanted = list(output_names or self._outputs)
        seed = feed_seed(input_feed, self._take)
        streams = np.random.SeedSequence(seed).spawn(len(self._noise_names))
        ids = max((a.size for a in input_feed.values()), default=1)
        # offered per input value: twice the most used yet, a guess before any run
        offered = [HEADROOM * most if most else float(NOISE_PER_ID) for most in self._most]
        while True:
            feed = dict(input_feed)
            for name, stream, per_id in zip(self._noise_names, streams, offered, strict=True):
                size = max(MIN_NOISE, math.ceil(per_id * ids))
                # a fresh generator each try: a longer draw starts with the same values
                feed[name] = np.random.default_rng(stream).standard_normal(size, np.float32)
            try:
                results = self._session.run(wanted + self._counts, feed, run_options)
                break
            except Exception as error:  # onnxruntime raises its own types
                short = NOISE_INPUT_PREFIX in str(error)  # a noise input too short to reshape
                if not short or max(offered) >= MAX_NOISE_PER_ID:
                    raise
                offered = [per_id * _GROWTH for per_id in offered]
        for k, used in enumerate(results[len(wanted):]):
            self._most[k] = max(self._most[k], int(used[0]) / ids)
        return results[: len(wanted)]


def feed_seed(feed: Mapping[str, np.ndarray], take: int = 0) -> int:
    """A 128-bit seed from every input's name, type, shape and values (and the take)."""
    digest = hashlib.sha256(f"take {take};".encode() if take else b"")
    for name in sorted(feed):
        array = np.ascontiguousarray(feed[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.tobytes())
    return int.from_bytes(digest.digest()[:16], "little")
