"""The `innerchild` command's entry point: signals first, then everything else.

Handlers are set before the CLI (and numpy, scipy, ...) is imported, so an
interrupt at any moment, imports included, ends with one line and a
documented exit code: 130 for Ctrl-C (SIGINT), 143 for SIGTERM. Work in
progress is unwound by the exception these raise, so every temporary file is
removed on the way out.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Final, NoReturn

INTERRUPTED: Final = 130  # 128 + SIGINT
TERMINATED: Final = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C so the same cleanup runs."""


def _on_sigterm(signum: int, frame: object) -> NoReturn:
    raise Terminated()


def stopped_message(error: KeyboardInterrupt) -> tuple[str, int]:
    if isinstance(error, Terminated):
        return "terminated; nothing half-written was left behind", TERMINATED
    return "interrupted; nothing half-written was left behind", INTERRUPTED


def _leave(status: int) -> NoReturn:
    # Cleanup ran while the exception unwound. Leave now: worker threads still finishing a
    # sentence must not hold the exit, nor a late signal turn it into a kill by signal.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def run() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        from innerchild_audio.cli import main

        main()
    except KeyboardInterrupt as error:  # before or after the commands' own handling
        message, status = stopped_message(error)
        print(message, file=sys.stderr)
        _leave(status)
    except SystemExit as done:
        if done.code in (INTERRUPTED, TERMINATED):  # the commands said so already
            _leave(int(done.code))
        raise


if __name__ == "__main__":
    run()
