"""One function call run in a forked process while this one does other work.

The gathering stages have independent parts (the BibTeX files' parse and the seed files';
one half of the papers' merge and the other): ``fork_call(fn, *args)`` starts ``fn(*args)``
in a child that inherits everything in memory (nothing is sent to it) and sends back only
its result, pickled. ``Forked.result()`` waits for it.

The result is always ``fn(*args)``'s: where processes cannot be forked, or the child ends
without a result (it raised, was killed, ran out of memory), ``result()`` runs ``fn(*args)``
in this process instead, so an error is raised here exactly as a serial run raises it.
``fn`` must be pure (no output, no change to shared state): a child's side effects are lost.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

_T = TypeVar("_T")


class Forked(Generic[_T]):
    """``fn(*args)`` under way in a forked process (or not started: run by ``result()``)."""

    def __init__(self, fn: Callable[..., _T], args: tuple[Any, ...], fork: bool) -> None:
        self._fn = fn
        self._args = args
        self._pid = 0
        self._fd = -1
        if fork and hasattr(os, "fork"):
            self._start()

    @property
    def forked(self) -> bool:
        """Whether a child process runs the call."""
        return self._pid > 0

    def _start(self) -> None:
        read_end, write_end = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return  # no process to spare: result() runs the call here
        if pid == 0:  # the child: never returns
            os.close(read_end)
            _child(write_end, parent, self._fn, self._args)
        os.close(write_end)
        self._pid, self._fd = pid, read_end

    def result(self) -> _T:
        """The call's result: the child's, or computed here when there is none."""
        if self._pid > 0:
            try:
                with os.fdopen(self._fd, "rb") as pipe:
                    self._fd = -1
                    data = pipe.read()
            except BaseException:
                self._reap(kill=True)  # interrupted while waiting
                raise
            self._reap(kill=False)  # it has closed its end: it is exiting
            if data:
                try:
                    value: _T = pickle.loads(data)
                except Exception:  # noqa: BLE001 - a truncated reply: computed here instead
                    pass
                else:
                    return value
        return self._fn(*self._args)

    def cancel(self) -> None:
        """End the child, if it still runs (its result is not wanted)."""
        if self._pid > 0:
            self._reap(kill=True)

    def _reap(self, kill: bool) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        pid, self._pid = self._pid, 0
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    def __enter__(self) -> Forked[_T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cancel()


def fork_call(fn: Callable[..., _T], *args: Any, fork: bool = True) -> Forked[_T]:
    """Start ``fn(*args)`` in a forked process (when ``fork`` and the platform can); use as a
    context manager so that the child is ended if this process stops waiting for it."""
    return Forked(fn, args, fork)


PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent ends


def _child(fd: int, parent: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """Run the call, send its pickled result and exit at once (no clean-up of the parent's
    state: its buffers, files and exit handlers belong to the parent). Nothing is sent when
    the call fails: the parent then runs it itself. A parent that ends (killed) takes the
    child with it (Linux), and so does a parent that had already ended."""
    try:
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            return
        data = pickle.dumps(fn(*args), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:  # noqa: BLE001, S110 - the parent computes it instead
        pass
    finally:
        os._exit(0)
