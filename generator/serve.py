"""``papersite serve``: build, serve on 127.0.0.1, rebuild on change, reload the open page.

    serve(args) -> exit code

1. Builds once into ``--out`` (the normal build: the atomic swap keeps the last good site).
2. Serves ``--out`` with ``http.server.ThreadingHTTPServer`` in a thread. HTML responses get
   one extra tag before ``</head>``: ``<script src="/__papersite/livereload.js"
   data-version="N" defer>`` (an external, same-origin script, so it runs under the pages'
   strict CSP; the files on disk are never changed, they stay identical to ``build``'s).
3. Watches the seed folder, ``templates/``, ``static/`` and the config file with
   ``watchfiles`` and rebuilds after each batch of changes. The rebuilds are warm
   (``WarmBuilder``): what the last build loaded or made stays in the process (memos,
   cached stage results, compiled templates while no template changed), and each build's
   cache is written once its site is served. The watch starts before the
   first build, so an edit made while it runs (or just as the URL is printed) is not lost.
4. The script polls ``/__papersite/status`` (JSON: ``version``, ``error``, ``building``):
   a new version reloads the page; an error shows an overlay with the error text (set with
   ``textContent``, styled by ``/__papersite/livereload.css``); the last good site stays
   served meanwhile. The terminal gets the same diagnostics and summary as ``build``.
5. Ctrl-C (or SIGTERM) stops the watcher and the server and returns 0.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import html
import itertools
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from generator.build import BuildOptions

PREFIX = "/__papersite/"
PROJECT_ROOT = Path(__file__).resolve().parent.parent

LIVERELOAD_JS = """\
(function () {
  "use strict";
  var me = document.currentScript;
  var version = me ? Number(me.getAttribute("data-version")) : -1;
  var box = null;

  function show(text) {
    if (!box) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = "/__papersite/livereload.css";
      document.head.appendChild(css);
      box = document.createElement("div");
      box.id = "papersite-error";
      box.setAttribute("role", "alert");
      var title = document.createElement("strong");
      title.textContent = "papersite: the last rebuild failed; showing the last good site";
      var pre = document.createElement("pre");
      box.appendChild(title);
      box.appendChild(pre);
      document.body.appendChild(box);
    }
    box.querySelector("pre").textContent = text;
    box.hidden = false;
  }

  function hide() {
    if (box) { box.hidden = true; }
  }

  function poll() {
    fetch("/__papersite/status", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.version !== version) { window.location.reload(); return; }
        if (s.error) { show(s.error); } else { hide(); }
        window.setTimeout(poll, 400);
      })
      .catch(function () { window.setTimeout(poll, 1000); });
  }
  poll();
})();
"""

LIVERELOAD_CSS = """\
#papersite-error {
  position: fixed; left: 0; right: 0; top: 0; z-index: 2147483647;
  max-height: 60vh; overflow: auto; margin: 0; padding: 1em 1.25em;
  background: #3b0a0a; color: #ffecec; border-bottom: 3px solid #e53935;
  font: 14px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
#papersite-error[hidden] { display: none; }
#papersite-error pre { margin: 0.5em 0 0; white-space: pre-wrap; }
"""


@dataclass
class ServeState:
    """What the dev server knows about the latest build; guarded by ``lock``."""

    version: int = 0  # increases each time a build writes the site
    error: str | None = None  # the last build's error text, None when it succeeded cleanly
    building: bool = False

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"version": self.version, "error": self.error, "building": self.building}


def inject_script(page: bytes, version: int) -> bytes:
    """Add the live-reload script tag before ``</head>`` (else before ``</body>``, else at
    the end)."""
    tag = f'<script src="{PREFIX}livereload.js" data-version="{version}" defer></script>'.encode()
    lower = page.lower()
    for marker in (b"</head>", b"</body>"):
        at = lower.find(marker)
        if at != -1:
            return page[:at] + tag + page[at:]
    return page + tag


def error_page(error: str, version: int) -> bytes:
    """Shown where no good site exists yet (the first build failed)."""
    body = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>papersite: build failed</title></head><body><h1>The build failed</h1>"
        f"<pre>{html.escape(error)}</pre></body></html>"
    )
    return inject_script(body.encode(), version)


def make_handler(root: Path, state: ServeState) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return  # requests are not news; build output is

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._respond(with_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._respond(with_body=False)

        def _send(self, status: int, ctype: str, body: bytes, with_body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def _respond(self, with_body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            if path.startswith(PREFIX):
                name = path[len(PREFIX) :]
                if name == "status":
                    body = json.dumps(state.snapshot()).encode()
                    self._send(200, "application/json", body, with_body)
                elif name == "livereload.js":
                    self._send(
                        200, "text/javascript; charset=utf-8", LIVERELOAD_JS.encode(), with_body
                    )
                elif name == "livereload.css":
                    self._send(200, "text/css; charset=utf-8", LIVERELOAD_CSS.encode(), with_body)
                else:
                    self._send(404, "text/plain; charset=utf-8", b"not found\n", with_body)
                return
            target = Path(self.translate_path(self.path))
            if target.is_dir():
                if not path.endswith("/"):  # http.server redirects to the slash form
                    if with_body:
                        super().do_GET()
                    else:
                        super().do_HEAD()
                    return
                target = target / "index.html"
            snap = state.snapshot()
            if target.suffix == ".html":
                try:
                    page = target.read_bytes()
                except OSError:
                    page = b""
                    missing = True
                else:
                    missing = False
                if missing:
                    if snap["error"] and not (root / "index.html").exists():
                        body = error_page(str(snap["error"]), int(snap["version"]))
                        self._send(503, "text/html; charset=utf-8", body, with_body)
                        return
                    self._not_found(with_body, int(snap["version"]))
                    return
                body = inject_script(page, int(snap["version"]))
                self._send(200, "text/html; charset=utf-8", body, with_body)
                return
            if not target.exists():
                if snap["error"] and not (root / "index.html").exists():
                    body = error_page(str(snap["error"]), int(snap["version"]))
                    self._send(503, "text/html; charset=utf-8", body, with_body)
                    return
                self._not_found(with_body, int(snap["version"]))
                return
            if with_body:
                super().do_GET()
            else:
                super().do_HEAD()

        def _not_found(self, with_body: bool, version: int) -> None:
            page_404 = root / "404.html"
            try:
                body = inject_script(page_404.read_bytes(), version)
            except OSError:
                body = b"<!DOCTYPE html><title>Not found</title><h1>Not found</h1>"
            self._send(404, "text/html; charset=utf-8", body, with_body)

    return Handler


def watched_paths(seeds: Path, config: Path | None) -> list[Path]:
    """The seed folder, the project's templates/ and static/, and the config file, where
    they exist."""
    paths = [seeds]
    for name in ("templates", "static"):
        for base in (Path.cwd(), PROJECT_ROOT):
            if (base / name).is_dir():
                paths.append(base / name)
    config_path = config if config is not None else Path("papersite.toml")
    if config_path.is_file():
        paths.append(config_path)
    seen: set[Path] = set()
    out: list[Path] = []
    for p in paths:
        r = p.resolve()
        if r not in seen and r.exists():
            seen.add(r)
            out.append(r)
    return out


def _format_failure(exc: BaseException) -> str:
    """One readable block for an exception from the build (template errors name file:line)."""
    lines = traceback.format_exception_only(type(exc), exc)
    filename = getattr(exc, "filename", None)
    lineno = getattr(exc, "lineno", None)
    where = f"{filename}:{lineno}: " if filename and lineno else ""
    return where + "".join(lines).strip()


class DevServer:
    """The build-serve-watch loop, separated from argparse so it can be driven in-process."""

    def __init__(
        self,
        build: Callable[[], tuple[bool, str | None]],
        out: Path,
        host: str,
        port: int,
        log: Callable[[str], None],
        after: Callable[[], None] | None = None,
    ) -> None:
        self.build = build
        self.after = after  # run once a build's site is served (e.g. saving its cache)
        self.out = out
        self.state = ServeState()
        self.log = log
        self.stop_event = threading.Event()
        self.last_ok = False
        out.mkdir(parents=True, exist_ok=True)
        self.httpd = ThreadingHTTPServer((host, port), make_handler(out, self.state))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="papersite-http")
        self._changes: Iterator[set[tuple[Any, str]]] = iter(())

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def rebuild(self) -> None:
        with self.state.lock:
            self.state.building = True
        try:
            ok, error = self.build()
        except Exception as exc:  # a template or pipeline error must not stop the server
            ok, error = False, _format_failure(exc)
            self.log(f"papersite: build failed, previous site kept:\n{error}")
        self.last_ok = ok
        with self.state.lock:
            if ok:
                self.state.version += 1
            self.state.error = error
            self.state.building = False

    def settle(self) -> None:
        """What waits until the site is served (``after``): a failure is only logged."""
        if self.after is None:
            return
        try:
            self.after()
        except Exception as exc:  # noqa: BLE001 - the cache costs time only; keep serving
            self.log(f"papersite: could not save the build cache: {_format_failure(exc)}")

    def start(self) -> None:
        self.thread.start()

    def arm(self, paths: Iterable[Path]) -> None:
        """Start watching ``paths`` now, before the first build and before the server is
        announced: a change made from then on (during the first build, or the moment the URL
        is printed) is seen and rebuilt, never missed."""
        import watchfiles

        changes = watchfiles.watch(
            *paths,
            stop_event=self.stop_event,
            raise_interrupt=False,
            step=50,
            debounce=800,
            rust_timeout=250,
            yield_on_timeout=True,
        )
        # The generator creates its inotify watches when first resumed; it yields once they
        # exist (an empty set when nothing changed within ``rust_timeout``).
        first = next(changes, None)
        self._changes = itertools.chain([first] if first else [], changes)

    def watch(self) -> None:
        """Rebuild after each batch of changes until ``stop_event`` is set (``arm`` first)."""
        for changes in self._changes:
            if not changes:  # a timeout tick: nothing changed
                continue
            names = sorted({Path(p).name for _, p in changes})
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            self.log(f"changed: {shown}; rebuilding")
            started = time.perf_counter()
            self.rebuild()
            verdict = "done" if self.last_ok else "failed, previous site kept"
            self.log(f"rebuild {verdict} in {time.perf_counter() - started:.2f} s")
            self.settle()

    def close(self) -> None:
        self.stop_event.set()
        # interrupted again: the cache is left as it was (it costs time only)
        with contextlib.suppress(KeyboardInterrupt):
            self.settle()
        if self.thread.is_alive():  # shutdown() would wait forever for a loop never started
            self.httpd.shutdown()
            self.thread.join(timeout=5)
        self.httpd.server_close()


class WarmBuilder:
    """The dev server's build step: ``run_build`` with one ``WarmStore`` for all of this
    process's builds, so a rebuild starts from what the last one loaded and made (memos,
    cached stage results, compiled templates while no template changed) instead of reading
    it from disk again. The site written is a cold build's, byte for byte."""

    def __init__(self, options: BuildOptions) -> None:
        from generator.cache import WarmStore

        self.options = options
        self.warm = WarmStore()

    def __call__(self) -> tuple[bool, str | None]:
        from generator.build import report, run_build
        from generator.progress import Progress, mode_from_flags

        options = self.options
        progress = Progress(mode_from_flags(options.quiet, options.verbose))
        try:
            result = run_build(options, progress, warm=self.warm)
        finally:
            # what the build left out of collections (build.collector_paused) is collected
            # as usual again between rebuilds
            gc.unfreeze()
        report(result, options, progress)  # (the cache is saved by ``settle``, after)
        errors = [str(d) for d in result.diagnostics if d.severity == "error"]
        if not result.ok:
            return False, "\n".join([f"papersite: {result.failure}", *errors])
        return True, ("\n".join(errors) if errors else None)

    def settle(self) -> None:
        """Save the last build's cache (deferred by ``run_build``: the site is served first)."""
        try:
            self.warm.flush()
        finally:
            gc.unfreeze()


def serve(args: argparse.Namespace) -> int:
    from generator.build import options_from_args

    options = options_from_args(args)
    host: str = getattr(args, "host", "127.0.0.1")
    port: int = getattr(args, "port", 8000)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    builder = WarmBuilder(options)
    try:
        server = DevServer(builder, options.out, host, port, log, after=builder.settle)
    except OSError as exc:
        log(f"papersite serve: cannot listen on {host}:{port}: {exc.strerror or exc}")
        return 2

    serving = os.getpid()

    def on_term(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != serving:
            # a build's forked worker (which inherits this handler) ends at once, as it
            # would under ``papersite build``: a pool's terminate() must not wait for it
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        paths = watched_paths(options.seeds, options.config)
        server.arm(paths)
        server.rebuild()
        server.start()
        log(f"serving {options.out} at {server.url} (Ctrl-C to stop)")
        log("watching " + ", ".join(str(p) for p in paths))
        server.settle()
        server.watch()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        signal.signal(signal.SIGTERM, previous)
        log("papersite serve: stopped")
    return 0
