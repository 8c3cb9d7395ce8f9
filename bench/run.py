"""Run every ``bench/bench_*.py`` and print ratios against their naive baselines.

Each benchmark module defines ``run() -> list[dict]`` with keys name, ours (s), naive (s,
or None where there is no naive baseline) and optionally note. Benchmarks use a throw-away
SQLite file (or DATABASE_URL if set) and never run as part of the test suite.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="bench-")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    print(f"machine: {machine()}; database: {connection.vendor}")
    print(f"{'benchmark':<48} {'ours':>10} {'naive':>10} {'ratio':>8}")
    only = sys.argv[1:]
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        if only and path.stem not in only:
            continue
        module = importlib.import_module(f"bench.{path.stem}")
        for row in module.run():
            if row["naive"] is None:  # a measure without a naive baseline
                naive, ratio = f"{'–':>10}", f"{'–':>8}"
            else:
                naive = f"{row['naive'] * 1000:>8.1f}ms"
                ratio = f"{row['naive'] / row['ours'] if row['ours'] else float('inf'):>7.1f}x"
            print(
                f"{row['name']:<48} {row['ours'] * 1000:>8.1f}ms {naive} {ratio}  "
                f"{row.get('note', '')}"
            )


if __name__ == "__main__":
    main()
