"""
Check that the built documentation renders in a real browser, with its figures.

Serves ``docs/_build/html`` on 127.0.0.1 (``http.server`` in a thread), then, for the
gallery index and one example page, runs headless Chromium twice:

* ``--screenshot``: the page as a 1280 x 2000 px PNG, which must not be blank and must
  contain colour (the gallery's figures; the theme itself is nearly grey-scale);
* ``--dump-dom``: the page's DOM after scripts ran, whose ``<img>`` elements must point to
  files that exist in the build and are valid PNG (or SVG) images.

The server logs every request, so the check also proves that Chromium fetched the page's
images and that none of its requests failed. Run it after building the docs::

    python docs/screenshot_check.py                      # docs/_build/html, screenshots in docs/_build/screenshots
    python docs/screenshot_check.py --pages generated/gallery/index.html

It exits with status 0 when every check passes and prints what it found;
``tests/test_docs_html.py`` runs the same check (marked slow; skipped without Chromium or
a built site).
"""

import argparse
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import matplotlib.image
import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_HTML = HERE / "_build" / "html"
DEFAULT_PAGES = (
    "generated/gallery/index.html",
    "generated/gallery/generation/generate_from_aia304.html",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=10000",
)

__all__ = ["PageReport", "check_pages", "find_chromium", "main"]


def find_chromium():
    """
    The Chromium executable: ``$CHROMIUM`` or the first of the usual names on the PATH.

    Returns
    -------
    str or None
    """
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class _ImageSources(HTMLParser):
    """Collect the ``src`` of every ``<img>`` element."""

    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            src = dict(attrs).get("src")
            if src:
                self.sources.append(src)


class _Server:
    """A static server of one directory on a free local port, logging each request."""

    def __init__(self, directory):
        self.requests = []  # (path, status)
        log = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                log.append((unquote(urlsplit(self.path).path), int(code) if str(code).isdigit() else code))

            def log_message(self, *args):
                pass

        handler = functools.partial(Handler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _run_chromium(chromium, args, url, profile, timeout):
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def _image_problems(path):
    """Why ``path`` is not a valid image file (empty list when it is one)."""
    if not path.is_file():
        return [f"{path} does not exist"]
    if path.suffix.lower() == ".svg":
        head = path.read_bytes()[:512].lower()
        return [] if b"<svg" in head or b"<?xml" in head else [f"{path} is not an SVG file"]
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        return [f"{path} is not a PNG file"]
    try:
        array = matplotlib.image.imread(path)
    except Exception as exc:  # a corrupt PNG raises various errors
        return [f"{path} cannot be decoded: {exc}"]
    if array.ndim < 2 or min(array.shape[:2]) < 1:
        return [f"{path} has no pixels"]
    return []


def _screenshot_stats(path):
    """Fraction of non-white pixels and of colourful pixels of a screenshot."""
    rgb = matplotlib.image.imread(path)[..., :3].astype(float)
    non_white = np.mean(rgb.min(axis=-1) < 0.95)
    saturation = rgb.max(axis=-1) - rgb.min(axis=-1)
    colourful = np.mean(saturation > 0.25)
    return float(non_white), float(colourful), rgb.shape[:2]


class PageReport:
    """
    What the check found on one page.

    Attributes
    ----------
    page : str
        Path of the page in the build.
    screenshot : pathlib.Path
        The screenshot.
    size : tuple of int
        Screenshot ``(height, width)`` in pixels.
    non_white, colourful : float
        Fractions of the screenshot's pixels that are not white, and that are strongly
        coloured.
    images : list of str
        The ``src`` of every ``<img>`` in the rendered DOM.
    fetched : list of str
        Image paths the browser requested that were served with status 200.
    problems : list of str
        Everything that failed; empty when the page passed.
    """

    def __init__(self, page, screenshot):
        self.page = page
        self.screenshot = screenshot
        self.size = (0, 0)
        self.non_white = self.colourful = 0.0
        self.images = []
        self.fetched = []
        self.problems = []

    @property
    def ok(self):
        """Whether every check passed."""
        return not self.problems

    def __str__(self):
        status = "OK" if self.ok else "FAILED"
        lines = [
            f"{status}  {self.page}",
            f"    screenshot {self.screenshot} ({self.size[1]} x {self.size[0]} px): "
            f"{self.non_white:.1%} non-white, {self.colourful:.1%} colourful",
            f"    {len(self.images)} <img> in the DOM, {len(self.fetched)} fetched by the browser",
        ]
        lines += [f"    problem: {p}" for p in self.problems]
        return "\n".join(lines)


def check_pages(
    html_dir=DEFAULT_HTML,
    pages=DEFAULT_PAGES,
    *,
    out_dir=None,
    chromium=None,
    window_size=(1280, 2000),
    min_images=1,
    timeout=120,
):
    """
    Screenshot pages of the built docs in headless Chromium and check their images.

    Parameters
    ----------
    html_dir : str or os.PathLike, optional
        The built HTML (``docs/_build/html``).
    pages : sequence of str, optional
        Pages to check, relative to ``html_dir``.
    out_dir : str or os.PathLike, optional
        Where the screenshots go (``<html_dir>/../screenshots`` by default).
    chromium : str, optional
        The Chromium executable (`find_chromium` by default).
    window_size : tuple of int, optional
        Browser window ``(width, height)`` in pixels.
    min_images : int, optional
        Fewest ``<img>`` elements each page must hold.
    timeout : float, optional
        Seconds allowed for each Chromium run.

    Returns
    -------
    list of PageReport
        One per page.

    Raises
    ------
    FileNotFoundError
        If Chromium or a page is missing.
    """
    html_dir = Path(html_dir).resolve()
    out_dir = Path(out_dir) if out_dir is not None else html_dir.parent / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError(
            "no Chromium found: install it (Debian: apt-get install chromium) or set $CHROMIUM"
        )
    for page in pages:
        if not (html_dir / page).is_file():
            raise FileNotFoundError(f"{html_dir / page} does not exist: build the docs first")

    reports = []
    with _Server(html_dir) as server, tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        for page in pages:
            url = urljoin(server.url, page)
            shot = out_dir / (page.replace("/", "__").removesuffix(".html") + ".png")
            report = PageReport(page, shot)
            reports.append(report)
            first_request = len(server.requests)

            if shot.exists():
                shot.unlink()
            run = _run_chromium(
                chromium,
                [f"--screenshot={shot}", f"--window-size={window_size[0]},{window_size[1]}"],
                url,
                profile,
                timeout,
            )
            if not shot.is_file():
                report.problems.append(
                    f"Chromium wrote no screenshot (exit {run.returncode}): {run.stderr[-500:]}"
                )
            else:
                report.non_white, report.colourful, report.size = _screenshot_stats(shot)
                if report.size != (window_size[1], window_size[0]):
                    report.problems.append(f"screenshot is {report.size[::-1]}, expected {window_size}")
                if report.non_white < 0.02:
                    report.problems.append(f"screenshot is blank ({report.non_white:.2%} non-white pixels)")
                if report.colourful < 0.005:
                    report.problems.append(
                        f"screenshot shows no figure ({report.colourful:.2%} colourful pixels)"
                    )

            dom = _run_chromium(chromium, ["--dump-dom"], url, profile, timeout)
            parser = _ImageSources()
            parser.feed(dom.stdout)
            report.images = parser.sources
            if "</html>" not in dom.stdout.lower():
                report.problems.append(
                    f"Chromium returned no DOM (exit {dom.returncode}): {dom.stderr[-500:]}"
                )
            if len(report.images) < min_images:
                report.problems.append(f"{len(report.images)} <img> elements, expected at least {min_images}")
            for src in report.images:
                target = urlsplit(urljoin(url, src))
                if target.scheme not in ("http", "https", "") or target.netloc not in (
                    "",
                    urlsplit(server.url).netloc,
                ):
                    continue  # an external image (none in an offline build)
                report.problems += _image_problems(html_dir / unquote(target.path).lstrip("/"))

            requests = server.requests[first_request:]
            image_requests = [
                (p, s) for p, s in requests if Path(p).suffix.lower() in (".png", ".svg", ".jpg")
            ]
            report.fetched = sorted({p for p, s in image_requests if s == 200})
            failed = sorted({f"{p} ({s})" for p, s in requests if s != 200 and s != 304})
            if failed:
                report.problems.append(f"requests that failed: {', '.join(failed)}")
            if not report.fetched:
                report.problems.append("the browser fetched no image")
    return reports


def main(argv=None):
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--html-dir", default=str(DEFAULT_HTML), help="the built HTML (docs/_build/html)")
    parser.add_argument("--out", default=None, help="where to write the screenshots")
    parser.add_argument(
        "--pages", nargs="+", default=list(DEFAULT_PAGES), help="pages relative to the HTML dir"
    )
    parser.add_argument("--chromium", default=None, help="Chromium executable (default: found on the PATH)")
    args = parser.parse_args(argv)
    try:
        reports = check_pages(args.html_dir, args.pages, out_dir=args.out, chromium=args.chromium)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for report in reports:
        print(report)
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
