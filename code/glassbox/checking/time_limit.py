"""`call_with_time_limit`: run a reader's function, and stop it when it runs too long (used by the exercise checks).

An exercise check calls code that a learner wrote; an infinite loop must end in a one-line reason, not a frozen
notebook or test run. In the main thread of a Unix process (a Jupyter kernel, Colab, pytest) a SIGALRM timer
interrupts the call, as pytest-timeout's "signal" method does; elsewhere (Windows, or a check run from another
thread) the call runs in a helper thread that is asked to stop with an asynchronous exception.
Either way the interruption reaches Python code only: a single long C call (one huge matrix product) finishes first.
"""

from __future__ import annotations

import ctypes
import signal
import threading
from collections.abc import Callable
from typing import Any

import torch


class TimeLimitExceeded(BaseException):  # noqa: N818 — a BaseException, so `except Exception` in the reader's code cannot swallow it
    """The reader's call ran past its time limit."""

    def __init__(self, seconds: float):
        super().__init__(f"still running after {seconds:g} s: an infinite loop?")
        self.seconds = seconds


def call_with_time_limit(fn: Callable[..., Any], seconds: float | None, *args: Any) -> Any:
    """`fn(*args)`, or `TimeLimitExceeded` once it has run `seconds` (None: no limit)."""
    if seconds is None:
        return fn(*args)
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        return _with_alarm(fn, seconds, args)
    return _in_thread(fn, seconds, args)


def _with_alarm(fn: Callable[..., Any], seconds: float, args: tuple[Any, ...]) -> Any:
    def stop(signum, frame):
        raise TimeLimitExceeded(seconds)

    previous_handler = signal.signal(signal.SIGALRM, stop)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_timer[0]:  # someone else's timer was running (pytest-timeout): give it back what is left
            signal.setitimer(signal.ITIMER_REAL, max(previous_timer[0] - seconds, 1e-3), previous_timer[1])


def _in_thread(fn: Callable[..., Any], seconds: float, args: tuple[Any, ...]) -> Any:
    outcome: dict[str, Any] = {}
    grad = torch.is_grad_enabled()  # grad mode is per thread: carry the caller's over

    def run() -> None:
        try:
            with torch.set_grad_enabled(grad):
                outcome["value"] = fn(*args)
        except BaseException as error:  # handed back to the caller below, whatever it is
            outcome["error"] = error

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(SystemExit))
        worker.join(1.0)
        raise TimeLimitExceeded(seconds)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
