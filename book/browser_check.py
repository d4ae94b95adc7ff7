"""Open every page of the built website in headless Chromium and fail on a console error
(``make book-check``; build the site first with ``make book``).

``python book/browser_check.py [build/book]``. The site is served on 127.0.0.1; each page is
loaded through the Chrome DevTools protocol (the ``websocket-client`` package, already a
Jupyter dependency) and every uncaught exception, ``console.error`` and browser error logged
while it loads counts. A resource on another host that cannot be reached because this machine
is offline (the MathJax and widget scripts come from CDNs) is reported but not counted.
Exit status: 0 when no page logged an error, 1 otherwise, 2 when no Chromium is installed.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome",
            "google-chrome-stable", "headless_shell")
#: Network errors that mean "this machine cannot reach that host", not "the page is wrong".
OFFLINE = re.compile(r"net::ERR_(NAME_NOT_RESOLVED|INTERNET_DISCONNECTED|ADDRESS_UNREACHABLE|"
                     r"CONNECTION_(REFUSED|RESET|TIMED_OUT|CLOSED|FAILED)|TIMED_OUT|NETWORK_"
                     r"|PROXY_|TUNNEL_CONNECTION_FAILED|NAME_RESOLUTION_FAILED)")


def find_browser() -> str | None:
    """The first Chromium-like browser on PATH (``CHROMIUM`` overrides), or None."""
    named = os.environ.get("CHROMIUM")
    return named if named else next((p for b in BROWSERS if (p := shutil.which(b))), None)


class DevTools:
    """A minimal Chrome DevTools protocol client over one websocket (flat sessions)."""

    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.last_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a command and return its result; events that arrive meanwhile are kept."""
        self.last_id += 1
        message: dict[str, Any] = {"id": self.last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def collect(self, seconds: float, until: str | None = None) -> None:
        """Keep the events of the next ``seconds`` (fewer once an ``until`` event came)."""
        import websocket

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if until and any(e.get("method") == until for e in self.events):
                return
            self.ws.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                return


def _errors(events: list[dict[str, Any]], local: str) -> tuple[list[str], list[str]]:
    """Console errors of a page load, and the resources of other hosts unreachable offline."""
    failed = {e["params"]["requestId"]: e["params"].get("errorText", "")
              for e in events if e.get("method") == "Network.loadingFailed"}
    errors, offline = [], []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text", "")
            errors.append(f"uncaught exception: {text.splitlines()[0] if text else details}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            errors.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            url, why = entry.get("url", ""), entry.get("text", "")
            why += " " + failed.get(entry.get("networkRequestId", ""), "")
            if url and not url.startswith(local) and OFFLINE.search(why):
                offline.append(url)
            else:
                errors.append(f"{entry.get('source')}: {why.strip()} {url}".strip())
    return errors, offline


def check(site: Path, browser: str) -> int:
    """Load every page of ``site`` in ``browser``; print what failed; return the exit status."""
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if "_static" not in p.parts)
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = f"http://127.0.0.1:{server.server_address[1]}/"
    with tempfile.TemporaryDirectory() as profile:
        args = [browser, "--headless", "--disable-gpu", "--no-first-run", "--mute-audio",
                "--remote-debugging-port=0", "--remote-allow-origins=*",
                f"--user-data-dir={profile}", "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        process = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        try:
            endpoint = _devtools_endpoint(process)
            tools = DevTools(endpoint)
            target = tools.call("Target.createTarget", url="about:blank")["targetId"]
            session = tools.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                tools.call(f"{domain}.enable", session)
            failed = 0
            for page in pages:
                tools.events.clear()
                tools.call("Page.navigate", session, url=local + page)
                tools.collect(30, until="Page.loadEventFired")
                tools.collect(1.5)  # scripts that run after load (MathJax, widgets)
                errors, offline = _errors(tools.events, local)
                # every page is judged as a first visit: no state left by the pages before it
                tools.call("Runtime.evaluate", session,
                           expression="localStorage.clear(); sessionStorage.clear()")
                failed += bool(errors)
                note = f" ({len(offline)} resource(s) of other hosts unreachable offline)" \
                    if offline else ""
                print(f"{'FAIL' if errors else 'ok  '} {page}{note}")
                for error in errors:
                    print(f"       {error}")
        finally:
            process.terminate()
            process.wait(timeout=10)
            server.shutdown()
    print(f"make book-check: {len(pages)} page(s), {failed} with a console error")
    return 1 if failed else 0


def _devtools_endpoint(process: subprocess.Popen, seconds: float = 30) -> str:
    """The browser's DevTools websocket address, from the line it prints on start."""
    deadline = time.monotonic() + seconds
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if match := re.search(r"DevTools listening on (ws://\S+)", line):
            threading.Thread(target=process.stderr.read, daemon=True).start()  # drain
            return match.group(1)
        if not line and process.poll() is not None:
            break
    raise RuntimeError("the browser did not start its DevTools endpoint")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site without a log line per request."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def main(argv: list[str] | None = None) -> int:
    """Command line: the site folder (default ``build/book``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, nargs="?",
                        default=Path(__file__).resolve().parent.parent / "build" / "book")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"make book-check: no site in {args.site}; run `make book` first", file=sys.stderr)
        return 1
    browser = find_browser()
    if browser is None:
        print("make book-check: no Chromium found (tried " + ", ".join(BROWSERS) + "; or set "
              "CHROMIUM). On Debian/Ubuntu: apt-get install chromium-headless-shell",
              file=sys.stderr)
        return 2
    return check(args.site, browser)


if __name__ == "__main__":
    sys.exit(main())
