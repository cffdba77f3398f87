"""Progress reporting and per-stage timings for a build.

API (the build orchestrator is the only caller that prints through it)::

    progress = Progress("normal")            # "quiet" | "normal" | "verbose"
    with progress.stage("read") as st:       # total=None: no known item count
        ...
        st.advance(n)                        # n items done (records, pages, files)
        st.note("3 seed files")              # shown with --verbose only
    with progress.stage("render", total=len(pages)) as st:
        for page in pages:
            ...
            st.advance()
    progress.error("seeds/x.txt:3: error: ...")   # always shown (stderr)
    progress.summary("16,776 pages, 0 errors, 2 warnings in 4.1 s")   # always shown
    progress.timings()                       # -> dict, see below
    progress.write_timings(Path("t.json"))   # the same dict as JSON (for --timings FILE)

Output goes to one stream (stderr by default):

- a terminal (``stream.isatty()``) and no ``CI`` variable: a progress bar per stage, redrawn in
  place at most ten times a second, replaced by the stage's one line when it ends;
- not a terminal, or ``CI`` set: one line per stage when it ends, nothing in between;
- ``quiet``: only errors and the summary; ``verbose``: every stage line carries its timings
  (wall, CPU, peak memory) and every note is printed.

``timings()`` returns ``{"stages": [{"name", "wall_s", "cpu_s", "cpu_children_s",
"peak_rss_mb", "items", "notes"}, ...], "total": {"wall_s", "cpu_s", "cpu_children_s",
"peak_rss_mb"}}``. ``cpu_s`` is this process's user+system time during the stage;
``cpu_children_s`` that of child processes reaped during it (a process pool's workers count
once the pool is joined). ``peak_rss_mb`` is the peak resident memory during the stage: the
kernel's high-water mark is reset at the start of each stage where Linux allows it
(``/proc/self/clear_refs``), otherwise it is the process's peak so far. Children's peak
memory is reported separately as ``peak_rss_children_mb`` (the largest child so far).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

Mode = Literal["quiet", "normal", "verbose"]
MODES: tuple[Mode, ...] = ("quiet", "normal", "verbose")

_BAR_WIDTH = 28
_REDRAW_S = 0.1


def mode_from_flags(quiet: bool, verbose: bool) -> Mode:
    """--quiet wins over --verbose (a script asking for silence gets it)."""
    if quiet:
        return "quiet"
    return "verbose" if verbose else "normal"


def _read_hwm_kb() -> int | None:
    """The kernel's peak resident set size of this process (VmHWM), in KiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reset_hwm() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _peak_kb() -> int:
    hwm = _read_hwm_kb()
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu(who: int) -> float:
    ru = resource.getrusage(who)
    return ru.ru_utime + ru.ru_stime


@dataclass
class StageTiming:
    name: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    cpu_children_s: float = 0.0
    peak_rss_mb: float = 0.0
    peak_rss_children_mb: float = 0.0
    items: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "wall_s": round(self.wall_s, 4),
            "cpu_s": round(self.cpu_s, 4),
            "cpu_children_s": round(self.cpu_children_s, 4),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "peak_rss_children_mb": round(self.peak_rss_children_mb, 1),
            "items": self.items,
            "notes": list(self.notes),
        }


class Stage:
    """The handle a ``with progress.stage(...)`` block gets: count items, add notes."""

    def __init__(self, progress: Progress, timing: StageTiming, total: int | None) -> None:
        self._progress = progress
        self.timing = timing
        self.total = total
        self.done = 0

    def advance(self, n: int = 1) -> None:
        self.done += n
        self.timing.items = self.done
        self._progress._tick(self)

    def set_total(self, total: int | None) -> None:
        self.total = total
        self._progress._tick(self)

    def note(self, text: str) -> None:
        self.timing.notes.append(text)
        self._progress._note(self, text)


class Progress:
    """Reports a build's stages to the user and records their cost. Not thread-safe: call it
    from the thread that runs the build (workers report counts back to that thread)."""

    def __init__(
        self,
        mode: Mode = "normal",
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"progress mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode: Mode = mode
        self.stream: TextIO = stream if stream is not None else sys.stderr
        environ = os.environ if env is None else env
        is_tty = tty if tty is not None else _isatty(self.stream)
        self.bar = is_tty and not environ.get("CI")
        self._stages: list[StageTiming] = []
        self._start_wall = time.perf_counter()
        self._start_cpu = _cpu(resource.RUSAGE_SELF)
        self._start_cpu_children = _cpu(resource.RUSAGE_CHILDREN)
        self._last_draw = 0.0
        self._bar_shown = False

    # -- stages -----------------------------------------------------------------------------

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Stage]:
        """Time one stage. Stages run one after another; a stage name may repeat (the
        records then add up in ``timings()`` under the one name)."""
        timing = StageTiming(name)
        st = Stage(self, timing, total)
        reset = _reset_hwm()
        wall0 = time.perf_counter()
        cpu0 = _cpu(resource.RUSAGE_SELF)
        child0 = _cpu(resource.RUSAGE_CHILDREN)
        self._last_draw = 0.0
        if self.bar and self.mode != "quiet":
            self._draw(st, force=True)
        try:
            yield st
        finally:
            timing.wall_s = time.perf_counter() - wall0
            timing.cpu_s = _cpu(resource.RUSAGE_SELF) - cpu0
            timing.cpu_children_s = _cpu(resource.RUSAGE_CHILDREN) - child0
            peak_kb = _peak_kb() if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            timing.peak_rss_mb = peak_kb / 1024
            timing.peak_rss_children_mb = (
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            )
            self._stages.append(timing)
            self._finish(st)

    def _tick(self, st: Stage) -> None:
        if not self.bar or self.mode == "quiet":
            return
        self._draw(st, force=False)

    def _draw(self, st: Stage, force: bool) -> None:
        now = time.perf_counter()
        if not force and now - self._last_draw < _REDRAW_S:
            return
        self._last_draw = now
        name = st.timing.name
        if st.total:
            frac = min(1.0, st.done / st.total)
            filled = int(frac * _BAR_WIDTH)
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            text = f"{name:<10} [{bar}] {frac:4.0%} {st.done:,}/{st.total:,}"
        else:
            text = f"{name:<10} ... {st.done:,}" if st.done else f"{name:<10} ..."
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()
        self._bar_shown = True

    def _clear_bar(self) -> None:
        if self._bar_shown:
            self.stream.write("\r\x1b[2K")
            self._bar_shown = False

    def _finish(self, st: Stage) -> None:
        if self.mode == "quiet":
            return
        self._clear_bar()
        t = st.timing
        line = f"{t.name:<10} {t.wall_s:7.2f} s"
        if t.items:
            line += f"  {t.items:,} items"
            if t.wall_s > 0:
                line += f" ({t.items / t.wall_s:,.0f}/s)"
        if self.mode == "verbose":
            cpu = t.cpu_s + t.cpu_children_s
            line += f"  cpu {cpu:.2f} s  peak {t.peak_rss_mb:,.0f} MB"
        self.stream.write(line + "\n")
        self.stream.flush()

    def _note(self, st: Stage, text: str) -> None:
        if self.mode != "verbose":
            return
        self._clear_bar()
        self.stream.write(f"  {st.timing.name}: {text}\n")
        self.stream.flush()

    # -- messages ---------------------------------------------------------------------------

    def note(self, text: str) -> None:
        """A line outside any stage, printed with --verbose only."""
        if self.mode == "verbose":
            self._clear_bar()
            self.stream.write(text + "\n")
            self.stream.flush()

    def info(self, text: str) -> None:
        """A line printed unless --quiet (e.g. warnings)."""
        if self.mode != "quiet":
            self._clear_bar()
            self.stream.write(text + "\n")
            self.stream.flush()

    def error(self, text: str) -> None:
        """Always printed."""
        self._clear_bar()
        self.stream.write(text + "\n")
        self.stream.flush()

    def summary(self, line: str) -> None:
        """The build's one-line summary; always printed, also with --quiet."""
        self._clear_bar()
        self.stream.write(line + "\n")
        self.stream.flush()

    # -- figures ----------------------------------------------------------------------------

    def timings(self) -> dict[str, Any]:
        stages = [t.as_dict() for t in self._stages]
        peak = max([_peak_kb() / 1024, *(t.peak_rss_mb for t in self._stages)])
        total = {
            "wall_s": round(time.perf_counter() - self._start_wall, 4),
            "cpu_s": round(_cpu(resource.RUSAGE_SELF) - self._start_cpu, 4),
            "cpu_children_s": round(_cpu(resource.RUSAGE_CHILDREN) - self._start_cpu_children, 4),
            "peak_rss_mb": round(peak, 1),
            "peak_rss_children_mb": round(
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
            ),
        }
        return {"stages": stages, "total": total}

    def write_timings(self, path: Path) -> None:
        path.write_text(json.dumps(self.timings(), indent=1) + "\n", encoding="utf-8")


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
