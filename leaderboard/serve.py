"""Serve a built site on localhost with the standard library's http.server (read-only, loopback only)."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from midrl_bench.leaderboard.site import CSP

LOOPBACK = "127.0.0.1"


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files only (GET/HEAD), with the site's Content-Security-Policy and no MIME sniffing."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".svg": "image/svg+xml", ".js": "text/javascript"}

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def list_directory(self, path):
        """No directory listings: only the site's own pages are served."""
        self.send_error(404, "Not found")
        return None

    def log_message(self, format: str, *args) -> None:  # noqa: A002  (http.server's signature)
        pass


def make_server(site: str | Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server bound to 127.0.0.1:`port` (0 picks a free port) serving `site`."""
    site = Path(site)
    if not (site / "index.html").is_file():
        raise FileNotFoundError(f"{site}/index.html not found; run `midrl leaderboard build --store STORE -o {site}`")
    handler = functools.partial(SiteHandler, directory=str(site.resolve()))
    return ThreadingHTTPServer((LOOPBACK, port), handler)


def serve_in_thread(site: str | Path, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start serving in a daemon thread; returns (server, base URL). Stop with `server.shutdown()`."""
    server = make_server(site, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{LOOPBACK}:{server.server_address[1]}/"
