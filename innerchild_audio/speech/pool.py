"""Running independent jobs on a bounded thread pool, failing fast on the first error."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait


def run_all(jobs: Sequence[Callable[[], None]], workers: int) -> None:
    """Run `jobs` with at most `workers` at once; the first failure cancels the rest and raises."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            job()
        return
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="speech")
    try:
        futures = [executor.submit(job) for job in jobs]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future.done() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
