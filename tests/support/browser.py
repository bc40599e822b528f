"""A headless Chromium for the page tests: networking routed to a recording proxy, console captured."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# A valid 1x1 PNG: the proxy's answer to anything, so a request never shows up as a load error.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)


# Chromium's own services (component updater, sign-in, network time) that it calls even with
# --disable-background-networking; requests to these hosts are the browser's, not the page's.
# the browser's own calls; chromium 150 also opens a tunnel to www.google.com at start-up, with every
# background service flag set (the pages' probes use other hosts, so nothing they do is hidden by this)
BROWSER_SERVICE_HOSTS = ("update.googleapis.com", "accounts.google.com", "clients2.google.com", "www.google.com")


def page_requests(requests: list[str]) -> list[str]:
    """*requests* without the browser's own service calls."""
    return [request for request in requests if _host(request) not in BROWSER_SERVICE_HOSTS]


def _host(request: str) -> str:
    method, target = request.split(" ", 1)
    if method == "CONNECT":
        return target.rsplit(":", 1)[0]
    return urlsplit(target).hostname or ""


def chromium_path() -> str:
    """The chromium binary, or skip loudly (``.ci/run`` installs it with apt when it can)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "BROWSER TESTS SKIPPED: no chromium on PATH and it could not be installed "
        "(.ci/run runs 'apt-get install -y chromium' when apt is available)"
    )


@dataclass
class PageLoad:
    """What one headless load produced."""

    dom: str
    console: list[str]
    requests: list[str] = field(default_factory=list)


class RecordingProxy:
    """An HTTP proxy on 127.0.0.1 that answers every request with a pixel and records it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        recorded = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                recorded.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PIXEL)))
                self.end_headers()
                if self.command != "HEAD":
                    with contextlib.suppress(OSError):
                        self.wfile.write(PIXEL)

            do_GET = do_POST = do_HEAD = do_CONNECT = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> RecordingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def load_page(page: Path, *, screenshot: Path | None = None, window: str = "1100,1400") -> PageLoad:
    """Load *page* headless (DOM dump, or a screenshot) with every request going to a recording proxy."""
    binary = chromium_path()
    with RecordingProxy() as proxy, tempfile.TemporaryDirectory(prefix="nbrun-chromium-") as profile:
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--no-default-browser-check",
            "--disable-domain-reliability",
            "--disable-client-side-phishing-detection",
            "--no-pings",
            "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
            "--disable-field-trial-config",
            "--metrics-recording-only",
            "--allow-pre-commit-input",
            f"--user-data-dir={profile}",
            f"--proxy-server={proxy.address}",
            "--proxy-bypass-list=<-loopback>",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            f"--window-size={window}",
            "--hide-scrollbars",
        ]
        command.append(f"--screenshot={screenshot}" if screenshot is not None else "--dump-dom")
        command.append(page.resolve().as_uri())
        env = {**os.environ, "HOME": profile}
        done = subprocess.run(command, capture_output=True, text=True, timeout=90, env=env)
        requests = list(proxy.requests)
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    if screenshot is not None:
        assert screenshot.is_file(), done.stderr[-2000:]
    else:
        assert done.stdout.strip(), done.stderr[-2000:]
    return PageLoad(done.stdout, console, requests)


def assert_offline(page: str) -> None:
    """No script, stylesheet, font or image is fetched from anywhere: the page works offline."""
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", page)
    assert not re.search(r"""@import|url\(\s*["']?(?:https?:)?//""", page)
    assert not re.search(r"""<img[^>]*\ssrc=(?:"(?!data:)|'(?!data:)|(?!["']|data:))""", page)  # every image inline
