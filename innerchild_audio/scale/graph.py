"""The build graph: every unique sentence once, then each session's mix, master and export.

    stats = run_graph(tasks, settings, executor, on_done)

The caller lays out every session, keys each sentence as the speech cache does
(engine, voice identity, text) and looks the keys up in its own cache. What is
missing becomes speech jobs, in the order sessions first need them; a session
job starts as soon as the speech jobs it needs are done. Finished files come
back as bytes and are committed here, all or nothing and the manifest last,
so a worker that dies mid-job leaves nothing behind.
"""

from __future__ import annotations

import logging
import math
import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from innerchild_audio.atomic import Staging
from innerchild_audio.errors import InnerChildError, RenderError
from innerchild_audio.export import manifest as manifests
from innerchild_audio.inputs import Prepared
from innerchild_audio.model import Voice
from innerchild_audio.options import RunSettings
from innerchild_audio.render import RenderResult
from innerchild_audio.scale import jobs
from innerchild_audio.scale.bundle import pack
from innerchild_audio.scale.executor import Executor, lost_worker_message, open_executor
from innerchild_audio.speech.synth import speech_target

log = logging.getLogger(__name__)

MAX_CHUNK: Final = 8  # sentences per speech job: few enough to share out, enough to pay off
MAX_ATTEMPTS: Final = 3  # local jobs whose worker process died run again this often


@dataclass(frozen=True)
class SessionTask:
    """One session to render: its prepared script (its slug is the output name)."""

    source: Path
    prepared: Prepared


SessionOutcome = RenderResult | InnerChildError
OnDone = Callable[[SessionTask, SessionOutcome], None]


@dataclass
class GraphStats:
    sessions: int = 0
    sentences: int = 0  # each session's distinct sentences, summed
    unique: int = 0  # distinct sentences in the whole graph
    cached: int = 0  # of those, already in the caller's cache
    synthesized: int = 0  # made by a model in a worker
    model_calls: int = 0  # synthesis calls on a model, every worker together
    voices_loaded: int = 0
    speech_jobs: int = 0
    workers: int = 0
    executor: str = ""


@dataclass
class _Sentence:
    engine: str
    voice: Voice
    text: str


@dataclass
class _Session:
    task: SessionTask
    keys: list[str]
    needs: frozenset[int] = frozenset()  # the speech jobs with its sentences
    waiting: set[int] = field(default_factory=set)  # those not yet done
    attempts: int = 0
    failed: bool = False


@dataclass
class _Speech:
    job: jobs.SpeechJob
    keys: list[str]
    sessions: list[int] = field(default_factory=list)
    unfinished: int = 0  # sessions that need it and are not done
    future: Any = None
    attempts: int = 0


class _Keys:
    """Cache keys as `synthesize_all` makes them, with `auto` resolved once per graph."""

    def __init__(self, settings: RunSettings):
        from innerchild_audio.speech import ClipCache, resolve_cache_dir
        from innerchild_audio.speech.synth import default_engines

        self.engines = default_engines(settings.voices_dir)
        self.cache = ClipCache(resolve_cache_dir(settings.cache_dir))
        self._identities: dict[tuple[str, Voice], dict[str, object]] = {}
        self.auto: str | None = None

    def resolve_auto(self, requests: Sequence[Any]) -> None:
        from innerchild_audio.speech import choose_auto

        if requests and self.auto is None:
            self.auto, note = choose_auto(requests, self.engines, self.cache)
            log.warning("voice engine auto: %s", note)

    def key(self, engine: str, voice: Voice, text: str) -> str:
        from innerchild_audio.speech.cache import cache_key

        if (engine, voice) not in self._identities:
            self._identities[engine, voice] = self.engines[engine].cache_identity(voice)
        return cache_key(engine, self._identities[engine, voice], text)


def _eta(started: float, done: int, total: int) -> float | None:
    if done <= 0 or done >= total:
        return None if done < total else 0.0
    return (time.monotonic() - started) / done * (total - done)


def _commit(done: jobs.SessionDone, task: SessionTask, out_dir: Path) -> RenderResult:
    """Write the session's files into `out_dir`: all of them, the manifest last, or none."""
    slug = task.prepared.script.slug
    manifest_path = out_dir / manifests.manifest_name(slug)
    previous = manifests.read_manifest(manifest_path)
    names = [name for name, _ in done.files]
    try:
        with Staging() as staging:
            for name, data in done.files:
                staging.write_bytes(out_dir / name, data)
            staging.commit()
    except OSError as error:
        raise RenderError(f"cannot write {slug} into {out_dir}: {error}") from error
    old_cover = (previous or {}).get("files", {}).get("cover") if previous else None
    if isinstance(old_cover, str) and old_cover not in names and Path(old_cover).name == old_cover:
        (out_dir / old_cover).unlink(missing_ok=True)  # the last render's cover, renamed since
    mp3 = next(name for name in names if name.endswith(".mp3"))
    return RenderResult(
        script_path=task.source, slug=slug, mp3_path=out_dir / mp3,
        manifest_path=manifest_path, files=tuple(out_dir / name for name in names),
        duration_ms=done.duration_ms, loudness_lufs=done.loudness_lufs,
        true_peak_dbtp=done.true_peak_dbtp, engine=done.engine, gain_db=done.gain_db,
        timeline=done.timeline, speech_cached=done.speech_cached,
        speech_synthesized=done.speech_synthesized)


def _failure(error: BaseException, what: str) -> InnerChildError:
    if isinstance(error, InnerChildError):
        return error
    lost = lost_worker_message(error)
    if lost is not None:
        return RenderError(f"{what}: {lost}")
    return RenderError(f"{what} failed in its worker: {type(error).__name__}: {error}")


@dataclass
class _Plan:
    sentences: dict[str, _Sentence]  # cache key -> what to speak
    sessions: list[_Session]
    speech: list[_Speech]
    job_of: dict[str, int]  # cache key -> the speech job that makes it
    cached: set[str]  # keys the caller's cache has


def _plan(tasks: Sequence[SessionTask], keys: _Keys, executor: Executor, stats: GraphStats,
          folders: tuple[str | None, str | None], on_done: OnDone) -> _Plan:
    """Lay out every session, key its sentences, and cut what is missing into speech jobs."""
    from innerchild_audio.plan import lay_out
    from innerchild_audio.timeline import SpeechRequest

    laid_out: list[tuple[SessionTask, list[SpeechRequest]]] = []
    for task in tasks:
        try:
            layout = lay_out(task.prepared.script, warnings=task.prepared.options.warnings)
            laid_out.append((task, layout.requests()))
        except InnerChildError as error:
            on_done(task, error)
    keys.resolve_auto([r for task, requests in laid_out for r in requests
                       if (task.prepared.options.engine or r.voice.engine) == "auto"])
    sentences: dict[str, _Sentence] = {}
    sessions: list[_Session] = []
    for task, requests in laid_out:
        try:
            session_keys = []
            for request in requests:
                engine = task.prepared.options.engine or request.voice.engine
                engine = keys.auto if engine == "auto" else engine
                assert engine is not None
                voice, text = speech_target(request, engine)  # as synthesize_all keys it
                key = keys.key(voice.engine, voice, text)
                sentences.setdefault(key, _Sentence(voice.engine, voice, text))
                session_keys.append(key)
        except InnerChildError as error:
            on_done(task, error)
            continue
        sessions.append(_Session(task, list(dict.fromkeys(session_keys))))
        stats.sentences += len(sessions[-1].keys)
    stats.unique = len(sentences)
    cached = {key for key in sentences if keys.cache.has(sentences[key].engine, key)}
    stats.cached = len(cached)

    # The missing sentences by voice, in the order sessions first need them, in chunks
    # small enough to share out among the workers.
    groups: dict[tuple[str, Voice], list[str]] = {}
    for key, sentence in sentences.items():
        if key not in cached:
            groups.setdefault((sentence.engine, sentence.voice), []).append(key)
    speech: list[_Speech] = []
    job_of: dict[str, int] = {}
    missing = len(sentences) - len(cached)
    size = max(1, min(MAX_CHUNK, math.ceil(missing / max(1, 2 * executor.workers))))
    cache_dir, voices_dir = folders
    for (engine, voice), group in groups.items():
        for start in range(0, len(group), size):
            chunk = group[start:start + size]
            for key in chunk:
                job_of[key] = len(speech)
            speech.append(_Speech(jobs.SpeechJob(
                engine, voice, tuple(sentences[k].text for k in chunk), cache_dir=cache_dir,
                voices_dir=voices_dir, threads=executor.threads,
                return_clips=not executor.shares_cache), chunk))
    stats.speech_jobs = len(speech)
    for index, session in enumerate(sessions):
        session.needs = frozenset(job_of[k] for k in session.keys if k in job_of)
        session.waiting = set(session.needs)
        for job_index in session.needs:
            speech[job_index].sessions.append(index)
            speech[job_index].unfinished += 1
    return _Plan(sentences, sessions, speech, job_of, cached)


def run_graph(tasks: Sequence[SessionTask], settings: RunSettings, executor: Executor,
              on_done: OnDone, label: str = "build") -> GraphStats:
    """Render every task; `on_done` hears of each session (a result or an error) once.

    Progress goes to `settings.progress` under `label`: stages "sentences" and "sessions".
    """
    from innerchild_audio.speech import resolve_voices_dir

    keys = _Keys(settings)
    stats = GraphStats(sessions=len(tasks), workers=executor.workers, executor=executor.kind)
    # Workers on this machine use the caller's folders; Dask workers their own defaults.
    cache_dir = str(keys.cache.root) if executor.shares_cache else None
    voices_dir = (str(resolve_voices_dir(settings.voices_dir))
                  if executor.shares_cache or settings.voices_dir else None)
    plan = _plan(tasks, keys, executor, stats, (cache_dir, voices_dir), on_done)
    sentences, sessions, speech, cached = plan.sentences, plan.sessions, plan.speech, plan.cached
    missing = stats.unique - stats.cached

    # Clips the caller has go to the workers once, when workers keep their own caches.
    shared: dict[str, Any] = {}
    if not executor.shares_cache:
        packs: dict[str, list[jobs.ClipData]] = {}
        for key in sorted({k for s in sessions for k in s.keys if k in cached}):
            clip = keys.cache.get(sentences[key].engine, key)
            if clip is not None:  # else gone since it was looked up: the session job speaks it
                packs[key] = [jobs.ClipData(sentences[key].engine, key,
                                            clip.samples.astype("float32").tobytes(),
                                            clip.sample_rate)]
        shared = dict(zip(packs, executor.share(list(packs.values())), strict=True))

    events: queue.Queue[tuple[str, int, Any]] = queue.Queue()
    outstanding = 0
    started = time.monotonic()
    spoken = stats.cached
    finished = 0

    def watch(kind: str, index: int, future: Any) -> None:
        nonlocal outstanding
        outstanding += 1
        future.add_done_callback(lambda f: events.put((kind, index, f)))

    def submit_speech(index: int) -> None:
        item = speech[index]
        item.attempts += 1
        item.future = executor.submit(jobs.speak, item.job)
        watch("speech", index, item.future)

    bundles: dict[tuple[str, str], Any] = {}

    def bundle_of(prepared: Prepared) -> Any:
        """The script's files, read and sent once however many rows render it."""
        identity = (str(prepared.script.path), manifests.inputs_digest(prepared.inputs, {}, ""))
        if identity not in bundles:
            bundles[identity] = executor.share([pack(prepared)])[0]
        return bundles[identity]

    def submit_session(index: int) -> None:
        session = sessions[index]
        session.attempts += 1
        prepared = session.task.prepared
        job = jobs.SessionJob(
            options=prepared.options, slug=prepared.script.slug,
            inputs=prepared.inputs, inputs_hash=prepared.inputs_hash,
            recorded_options=prepared.recorded_options, cache_dir=cache_dir,
            voices_dir=voices_dir, auto=keys.auto)
        clips: list[Any] = []
        if not executor.shares_cache:
            clips = [speech[i].future for i in sorted(session.needs)]
            clips += [shared[k] for k in session.keys if k in shared]
        watch("session", index, executor.submit(jobs.render_session, job, bundle_of(prepared),
                                                *clips))

    def finish(index: int, outcome: SessionOutcome) -> None:
        nonlocal finished
        session = sessions[index]
        if session.failed:
            return
        session.failed = isinstance(outcome, InnerChildError)
        finished += 1
        for job_index in session.needs:
            speech[job_index].unfinished -= 1
            if speech[job_index].unfinished == 0:
                speech[job_index].future = None  # lets Dask forget its clips
        on_done(session.task, outcome)
        settings.report(label, "sessions",
                        f"{finished}/{len(sessions)} sessions ({session.task.prepared.script.slug}"
                        f"{' failed' if session.failed else ''})",
                        done=finished, total=len(sessions),
                        eta_s=_eta(started, finished, len(sessions)))

    settings.report(label, "sentences",
                    f"{stats.unique} sentences, {stats.cached} cached, {missing} to speak "
                    f"on {executor.workers} {executor.kind} worker(s)",
                    done=stats.cached, total=stats.unique)
    for index in range(len(speech)):
        submit_speech(index)
    for index, session in enumerate(sessions):
        if not session.waiting:
            submit_session(index)

    while outstanding:
        kind, index, future = events.get()
        outstanding -= 1
        result, error = _settled(future)
        if kind == "speech":
            item = speech[index]
            if error is not None and executor.recover(error) and item.attempts < MAX_ATTEMPTS:
                submit_speech(index)
                continue
            if isinstance(result, jobs.SpeechDone):
                stats.synthesized += result.synthesized
                stats.model_calls += result.model_calls
                stats.voices_loaded += result.voices_loaded
                if result.clips:
                    _fill_cache(keys, sentences, item.keys, result)
                spoken += len(item.keys)
                settings.report(label, "sentences", f"{spoken}/{stats.unique} sentences",
                                done=spoken, total=stats.unique,
                                eta_s=_eta(started, spoken - stats.cached,
                                           stats.unique - stats.cached))
                for session_index in item.sessions:
                    session = sessions[session_index]
                    session.waiting.discard(index)
                    if not session.waiting and not session.failed:
                        submit_session(session_index)
            else:
                problem = (jobs.RemoteError(result) if isinstance(result, jobs.JobError)
                           else _failure(error, f"speaking {len(item.keys)} sentences"))  # type: ignore[arg-type]
                for session_index in item.sessions:
                    finish(session_index, problem)
        else:
            session = sessions[index]
            if error is not None and executor.recover(error) and session.attempts < MAX_ATTEMPTS:
                submit_session(index)
                continue
            slug = session.task.prepared.script.slug
            if error is not None:
                finish(index, _failure(error, f"rendering {slug}"))
                continue
            if isinstance(result, jobs.JobError):
                finish(index, jobs.RemoteError(result))
                continue
            try:
                finish(index, _commit(result, session.task, settings.out_dir))
            except InnerChildError as problem:
                finish(index, problem)
    for item in speech:
        item.future = None  # lets Dask forget the clips
    return stats


def _settled(future: Any) -> tuple[Any, BaseException | None]:
    """(result, None) or (None, why not); a cancelled future raises rather than answers."""
    try:
        return future.result(), None
    except BaseException as error:  # the job's own exception, or the executor's
        return None, error


def run_tasks(tasks: Sequence[SessionTask], settings: RunSettings,
              on_done: OnDone, label: str = "build") -> GraphStats | None:
    """Run the tasks as one graph on the executor `settings` asks for (None: no tasks)."""
    if not tasks:
        return None
    with open_executor(settings.jobs, settings.scheduler) as executor:
        return run_graph(tasks, settings, executor, on_done, label)


def _fill_cache(keys: _Keys, sentences: dict[str, _Sentence], chunk: list[str],
                done: jobs.SpeechDone) -> None:
    """The caller's cache gets what a worker with its own cache spoke."""
    import numpy as np

    from innerchild_audio.speech import Clip

    for key, clip in zip(chunk, done.clips, strict=True):
        sentence = sentences[key]
        if not keys.cache.has(sentence.engine, key):
            keys.cache.put(sentence.engine, key,
                           Clip(np.frombuffer(clip.samples, dtype=np.float32).copy(),
                                clip.sample_rate))


__all__ = ["GraphStats", "SessionOutcome", "SessionTask", "run_graph", "run_tasks"]
