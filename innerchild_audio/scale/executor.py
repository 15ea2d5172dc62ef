"""Where the graph's jobs run: this process, local worker processes, or a Dask cluster.

    with open_executor(jobs=2) as executor: ...                       # processes here
    with open_executor(scheduler="tcp://10.0.0.5:8786") as executor: ...  # a Dask cluster

Every executor's `submit` returns a future with `add_done_callback`, `result`
and `exception`. Local workers share this machine's speech cache folder; Dask
workers keep their own, so clips travel with the jobs (`shares_cache` False).
`dask.distributed` is imported only when a scheduler is named.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, InvalidStateError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Final

from innerchild_audio.errors import UsageError

log = logging.getLogger(__name__)

SCHEDULER_ENV: Final = "INNERCHILD_SCHEDULER"
DASK_RETRIES: Final = 2  # a job that raised runs again this often (a lost worker's too)
CONNECT_TIMEOUT_S: Final = 20
WORKER_WAIT_S: Final = 60


def cpu_count() -> int:
    from innerchild_audio.speech.pooled import cpu_count as cores

    return cores()


class InlineExecutor:
    """Runs each job at once in this process (one job at a time: `--jobs 1`)."""

    kind = "inline"
    shares_cache = True
    workers = 1
    threads: int | None = None  # onnxruntime's own choice: the whole machine

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as error:  # handed to the caller like a worker's failure
            future.set_exception(error)
        return future

    def share(self, packs: Sequence[Any]) -> list[Any]:
        return list(packs)

    def recover(self, error: BaseException) -> bool:
        return False

    def close(self, cancel: bool = False) -> None:
        pass


# Worker processes outlive one run: a voice a worker loaded serves the next build
# in this process too. They are stopped at exit (concurrent.futures does it).
_pools: dict[int, ProcessPoolExecutor] = {}
# Imported once in the fork server, so a new worker starts with them (no ONNX yet:
# its threads would not survive a fork).
PRELOAD: Final = ["innerchild_audio.scale.jobs", "innerchild_audio.render",
                  "innerchild_audio.master", "innerchild_audio.mix", "innerchild_audio.speech"]


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


class LocalExecutor(InlineExecutor):
    """Worker processes on this machine, started fresh (no ONNX threads forked)."""

    kind = "local"

    def __init__(self, workers: int):
        self.workers = workers
        self.threads = max(1, cpu_count() // workers)
        self._pool = _pools.get(workers) or self._new_pool()
        self._pending: list[Future] = []  # submitted to the current pool, not known done

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_context())
        _pools[self.workers] = pool
        return pool

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future = self._pool.submit(fn, *args)
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(future)
        return future

    def recover(self, error: BaseException) -> bool:
        """A worker process died (the pool is broken): a fresh pool, and the job again."""
        if not isinstance(error, BrokenProcessPool):
            return False
        if getattr(self._pool, "_broken", False):
            log.warning("a worker process died; starting new ones and running its jobs again")
            old, self._pool = self._pool, self._new_pool()
            old.shutdown(wait=False, cancel_futures=True)
            # a job handed to the old pool just as it broke can be left neither run nor
            # failed (the pool's own bookkeeping races): fail it here, so it runs again
            stranded, self._pending = self._pending, []
            for future in stranded:
                if not future.done():
                    try:
                        future.set_exception(BrokenProcessPool("its worker pool broke"))
                    except InvalidStateError:  # it settled meanwhile
                        pass
        return True

    def close(self, cancel: bool = False) -> None:
        if cancel or getattr(self._pool, "_broken", False):  # interrupted: stop them now
            _pools.pop(self.workers, None)
            self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Jobs on a Dask cluster; clips and files travel with them, retried when a worker dies."""

    kind = "dask"
    shares_cache = False
    threads: int | None = 1  # one worker process per core (`dask worker --nthreads 1`)

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError as error:  # pragma: no cover - a dependency of the package
            raise UsageError(f"needs dask.distributed ({error}); pip install "
                             "'dask[distributed]'", option="scheduler") from None
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise UsageError(f"{address}: cannot reach the Dask scheduler ({error}); start "
                             "one with `dask scheduler` and workers with `dask worker "
                             f"{address}`", option="scheduler") from None
        try:
            self.client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except TimeoutError:
            self.client.close()
            raise UsageError(f"{address}: the scheduler has no workers after "
                             f"{WORKER_WAIT_S}s; start some with `dask worker {address}`",
                             option="scheduler") from None
        self.address = address

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False, retries=DASK_RETRIES)

    def share(self, packs: Sequence[Any]) -> list[Any]:
        """Put data on the workers once (every worker holds a copy: one may die)."""
        if not packs:
            return []
        return list(self.client.scatter(list(packs), broadcast=True, hash=False))

    def recover(self, error: BaseException) -> bool:
        return False  # Dask has retried already

    def close(self, cancel: bool = False) -> None:
        self.client.close()


def stop_local_workers() -> None:
    """Stop the worker processes kept for later runs (the next run starts fresh ones)."""
    while _pools:
        _, pool = _pools.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


def lost_worker_message(error: BaseException) -> str | None:
    """How a job failed when its worker died, or None for any other failure."""
    if isinstance(error, BrokenProcessPool):
        return "a worker process died while running it"
    if type(error).__name__ == "KilledWorker":
        return ("workers died running it again and again (out of memory?); "
                f"Dask gave up: {error}")
    if type(error).__name__ in ("FutureCancelledError", "CancelledError"):
        return f"its job was cancelled ({error})"
    return None


Executor = InlineExecutor | LocalExecutor | DaskExecutor


def scheduler_address(option: str | None) -> str | None:
    """The Dask scheduler to use: the option, else $INNERCHILD_SCHEDULER, else none."""
    value = option if option is not None else os.environ.get(SCHEDULER_ENV, "")
    value = value.strip()
    return value or None


@contextmanager
def open_executor(jobs: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    """An executor for one run; closed (its workers stopped, for local ones) at the end."""
    executor: Executor
    if scheduler:
        executor = DaskExecutor(scheduler)
    else:
        workers = jobs or cpu_count()
        executor = InlineExecutor() if workers == 1 else LocalExecutor(workers)
    cancel = True
    try:
        yield executor
        cancel = False
    finally:
        executor.close(cancel=cancel)


__all__ = ["DaskExecutor", "Executor", "InlineExecutor", "LocalExecutor", "SCHEDULER_ENV",
           "lost_worker_message", "open_executor", "scheduler_address", "stop_local_workers"]
