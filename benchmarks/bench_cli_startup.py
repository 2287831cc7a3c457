"""
Start-up time of the ``sunpy-magnetogan`` command line: wall time of the commands that should
answer at once (``--help``, ``--version``, ``info``, ``models list``), each in a fresh Python
process, as a user types them.

Target (issue 20): well under a second (it was ~6 s, the parser imported torch and
``sunpy.map``). To compare with an older version, export it and point ``--source`` at it::

    git archive b56e8a3 | tar -x -C /tmp/before        # the commit before issue 20
    python benchmarks/bench_cli_startup.py --source /tmp/before --source .

Each ``--source`` folder is put first on ``PYTHONPATH``, so its ``sunpy_magnetogan`` is the one
imported (whatever is installed). The report also says which of torch and ``sunpy.map``
the parser imported (``python -X importtime`` gives the full breakdown).

Usage::

    python benchmarks/bench_cli_startup.py [--repeat 7] [--source DIR ...]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table

COMMANDS = (["--help"], ["--version"], ["info"], ["models", "list"], ["generate", "--help"])

_HEAVY = """
import sys
from sunpy_magnetogan.cli import build_parser
build_parser()
print(",".join(m for m in ("torch", "sunpy.map", "astropy.units") if m in sys.modules) or "none")
"""


def _env(source):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH", "")]))
    return env


def _wall(argv, source):
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sunpy_magnetogan.cli", *argv],
        cwd=source,
        env=_env(source),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (default: 7)")
    parser.add_argument(
        "--source",
        action="append",
        type=Path,
        help="a source tree holding sunpy_magnetogan/ (repeatable; default: this checkout)",
    )
    args = parser.parse_args()
    sources = [s.resolve() for s in (args.source or [Path(__file__).resolve().parents[1]])]
    rows = []
    for source in sources:
        heavy = subprocess.run(
            [sys.executable, "-c", _HEAVY],
            cwd=source,
            env=_env(source),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for argv in COMMANDS:
            _wall(argv, source)  # warm-up: file-system caches
            times = sorted(_wall(argv, source) for _ in range(args.repeat))
            q1, _, q3 = statistics.quantiles(times, n=4)
            rows.append(
                {
                    "source": str(source),
                    "command": " ".join(argv),
                    "median s": statistics.median(times),
                    "IQR s": q3 - q1,
                    "min s": times[0],
                    "parser imports": heavy,
                }
            )
    python_alone = sorted(_wall_python() for _ in range(args.repeat))
    print(
        f"Python {sys.version.split()[0]}; a bare interpreter starts in {statistics.median(python_alone):.3f} s"
    )
    print_table(rows, ["source", "command", "median s", "IQR s", "min s", "parser imports"])


def _wall_python():
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
