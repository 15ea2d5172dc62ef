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
    manifests.remove_stale_cover(previous, names, out_dir)
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
                asked = task.prepared.options.engine or request.voice.engine
                engine = keys.auto if asked == "auto" else asked
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
    shared = _share_cached(plan, keys, executor)
    run = _Run(plan, keys, stats, settings, executor, on_done, label,
               (cache_dir, voices_dir), shared)
    run.start()
    run.wait()
    run.release()
    return stats


def _share_cached(plan: _Plan, keys: _Keys, executor: Executor) -> dict[str, Any]:
    """Clips the caller has go to the workers once, when workers keep their own caches."""
    if executor.shares_cache:
        return {}
    packs: dict[str, list[jobs.ClipData]] = {}
    for key in sorted({k for s in plan.sessions for k in s.keys if k in plan.cached}):
        engine = plan.sentences[key].engine
        clip = keys.cache.get(engine, key)
        if clip is not None:  # else gone since it was looked up: the session job speaks it
            packs[key] = [jobs.ClipData(engine, key, clip.samples.astype("float32").tobytes(),
                                        clip.sample_rate)]
    return dict(zip(packs, executor.share(list(packs.values())), strict=True))


class _Run:
    """One graph on its way: the jobs in flight, what has finished, progress."""

    def __init__(self, plan: _Plan, keys: _Keys, stats: GraphStats, settings: RunSettings,
                 executor: Executor, on_done: OnDone, label: str,
                 folders: tuple[str | None, str | None], shared: dict[str, Any]):
        self.plan, self.keys, self.stats = plan, keys, stats
        self.settings, self.executor, self.on_done, self.label = settings, executor, on_done, label
        self.cache_dir, self.voices_dir = folders
        self.shared = shared  # cache key -> the clip as the executor shared it
        self.bundles: dict[tuple[str, str], Any] = {}
        self.events: queue.Queue[tuple[str, int, Any]] = queue.Queue()
        self.outstanding = 0  # jobs submitted whose event has not been handled
        self.started = time.monotonic()
        self.spoken = stats.cached
        self.finished = 0

    # Starting and waiting

    def start(self) -> None:
        """Every speech job, and every session that needs none."""
        stats, executor = self.stats, self.executor
        self.settings.report(
            self.label, "sentences",
            f"{stats.unique} sentences, {stats.cached} cached, "
            f"{stats.unique - stats.cached} to speak on {executor.workers} {executor.kind} "
            "worker(s)",
            done=stats.cached, total=stats.unique)
        for index in range(len(self.plan.speech)):
            self._submit_speech(index)
        for index, session in enumerate(self.plan.sessions):
            if not session.waiting:
                self._submit_session(index)

    def wait(self) -> None:
        """Handle each finished job, submitting what it unblocks, until none is in flight."""
        while self.outstanding:
            kind, index, future = self.events.get()
            self.outstanding -= 1
            if kind == "speech":
                self._speech_settled(index, future)
            else:
                self._session_settled(index, future)

    def release(self) -> None:
        for item in self.plan.speech:
            item.future = None  # lets Dask forget the clips

    def _watch(self, kind: str, index: int, future: Any) -> None:
        self.outstanding += 1
        future.add_done_callback(lambda f: self.events.put((kind, index, f)))

    def _retry(self, error: BaseException | None, attempts: int) -> bool:
        """Whether a job whose worker died runs again (the executor can and it may)."""
        return error is not None and self.executor.recover(error) and attempts < MAX_ATTEMPTS

    # Speech jobs

    def _submit_speech(self, index: int) -> None:
        item = self.plan.speech[index]
        item.attempts += 1
        item.future = self.executor.submit(jobs.speak, item.job)
        self._watch("speech", index, item.future)

    def _speech_settled(self, index: int, future: Any) -> None:
        item = self.plan.speech[index]
        result, error = _settled(future)
        if self._retry(error, item.attempts):
            self._submit_speech(index)
        elif isinstance(result, jobs.SpeechDone):
            self._speech_done(index, result)
        else:
            problem = (jobs.RemoteError(result) if isinstance(result, jobs.JobError)
                       else _failure(error, f"speaking {len(item.keys)} sentences"))  # type: ignore[arg-type]
            for session_index in item.sessions:
                self._finish(session_index, problem)

    def _speech_done(self, index: int, result: jobs.SpeechDone) -> None:
        """Count and keep the clips, then start each session that waited only for them."""
        item, stats = self.plan.speech[index], self.stats
        stats.synthesized += result.synthesized
        stats.model_calls += result.model_calls
        stats.voices_loaded += result.voices_loaded
        if result.clips:
            _fill_cache(self.keys, self.plan.sentences, item.keys, result)
        self.spoken += len(item.keys)
        self.settings.report(self.label, "sentences", f"{self.spoken}/{stats.unique} sentences",
                             done=self.spoken, total=stats.unique,
                             eta_s=_eta(self.started, self.spoken - stats.cached,
                                        stats.unique - stats.cached))
        for session_index in item.sessions:
            session = self.plan.sessions[session_index]
            session.waiting.discard(index)
            if not session.waiting and not session.failed:
                self._submit_session(session_index)

    # Session jobs

    def _bundle_of(self, prepared: Prepared) -> Any:
        """The script's files, read and sent once however many rows render it."""
        identity = (str(prepared.script.path), manifests.inputs_digest(prepared.inputs, {}, ""))
        if identity not in self.bundles:
            self.bundles[identity] = self.executor.share([pack(prepared)])[0]
        return self.bundles[identity]

    def _submit_session(self, index: int) -> None:
        session = self.plan.sessions[index]
        session.attempts += 1
        prepared = session.task.prepared
        job = jobs.SessionJob(
            options=prepared.options, slug=prepared.script.slug,
            inputs=prepared.inputs, inputs_hash=prepared.inputs_hash,
            recorded_options=prepared.recorded_options, cache_dir=self.cache_dir,
            voices_dir=self.voices_dir, auto=self.keys.auto)
        clips: list[Any] = []
        if not self.executor.shares_cache:
            clips = [self.plan.speech[i].future for i in sorted(session.needs)]
            clips += [self.shared[k] for k in session.keys if k in self.shared]
        self._watch("session", index, self.executor.submit(
            jobs.render_session, job, self._bundle_of(prepared), *clips))

    def _session_settled(self, index: int, future: Any) -> None:
        session = self.plan.sessions[index]
        result, error = _settled(future)
        if self._retry(error, session.attempts):
            self._submit_session(index)
        elif error is not None:
            self._finish(index, _failure(error, f"rendering {session.task.prepared.script.slug}"))
        elif isinstance(result, jobs.JobError):
            self._finish(index, jobs.RemoteError(result))
        else:
            try:
                outcome: SessionOutcome = _commit(result, session.task, self.settings.out_dir)
            except InnerChildError as problem:
                outcome = problem
            self._finish(index, outcome)

    def _finish(self, index: int, outcome: SessionOutcome) -> None:
        """Tell the caller, once per session, and let go of clips no session still needs."""
        session = self.plan.sessions[index]
        if session.failed:
            return
        session.failed = isinstance(outcome, InnerChildError)
        self.finished += 1
        for job_index in session.needs:
            item = self.plan.speech[job_index]
            item.unfinished -= 1
            if item.unfinished == 0:
                item.future = None  # lets Dask forget its clips
        self.on_done(session.task, outcome)
        total = len(self.plan.sessions)
        self.settings.report(
            self.label, "sessions",
            f"{self.finished}/{total} sessions ({session.task.prepared.script.slug}"
            f"{' failed' if session.failed else ''})",
            done=self.finished, total=total, eta_s=_eta(self.started, self.finished, total))


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
