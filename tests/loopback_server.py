"""
A tiny HTTP server on 127.0.0.1 for download tests (no other address is ever used).

`LoopbackServer` serves registered byte strings from a thread and records every request;
routes can answer with an HTTP error, delay the answer, or announce more bytes than they
send and close the connection (a truncated transfer).
"""

import http.server
import socket
import threading
import time

import pytest

__all__ = ["LoopbackServer", "refused_url", "server", "weights_env"]

HOST = "127.0.0.1"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        server = self.server.owner
        path = self.path.split("?", 1)[0]
        with server.lock:
            server.requests.append(path)
            route = server.routes.get(path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        if route["delay"]:
            time.sleep(route["delay"])
        if route["status"] != 200:
            self.send_error(route["status"])
            return
        body = route["body"]
        sent = body[: route["send_bytes"]] if route["send_bytes"] is not None else body
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(sent)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format, *args):  # keep test output quiet
        pass


class LoopbackServer:
    """
    An HTTP server on ``127.0.0.1`` (a free port) running in a daemon thread.

    Use as a context manager; `add` routes, build URLs with `url`, inspect `requests`.
    """

    def __init__(self):
        self.routes = {}
        self.requests = []
        self.lock = threading.Lock()
        self._httpd = http.server.ThreadingHTTPServer((HOST, 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def add(self, path, body=b"", *, status=200, delay=0.0, send_bytes=None):
        """
        Serve ``body`` at ``path``.

        ``status`` other than 200 answers with that HTTP error; ``delay`` waits that many
        seconds first; ``send_bytes`` sends only that many bytes of the body (while the
        Content-Length header announces all of it) and closes the connection.
        """
        with self.lock:
            self.routes[path] = {"body": body, "status": status, "delay": delay, "send_bytes": send_bytes}
        return self.url(path)

    def url(self, path):
        return f"http://{HOST}:{self.port}{path}"

    def count(self, path):
        """How many GET requests ``path`` received."""
        with self.lock:
            return self.requests.count(path)


def refused_url(path="/refused.safetensors"):
    """
    A URL on 127.0.0.1 where connections are refused, with the socket that keeps it so.

    The port is bound but never listened on, so no other process can take it while the
    returned socket is open; close it when done.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, 0))
    return f"http://{HOST}:{sock.getsockname()[1]}{path}", sock


_PROXY_VARS = ("http_proxy", "https_proxy", "ftp_proxy", "all_proxy")


@pytest.fixture
def server():
    """A running `LoopbackServer`."""
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def weights_env(tmp_path, monkeypatch):
    """
    Isolate the weights machinery: a fresh cache directory (returned) set through
    ``SUNPY_MAGNETOGAN_CACHE``, offline mode off, no HTTP proxy (so requests to 127.0.0.1
    go straight to the loopback server), and a registry reset before and after the test.
    """
    from sunpy_magnetogan.weights import reload_registry
    from sunpy_magnetogan.weights.cache import CACHE_ENV, OFFLINE_ENV

    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    monkeypatch.delenv(OFFLINE_ENV, raising=False)
    for var in _PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)
    monkeypatch.setenv("NO_PROXY", HOST)
    monkeypatch.setenv("no_proxy", HOST)
    reload_registry()
    yield cache
    reload_registry()
