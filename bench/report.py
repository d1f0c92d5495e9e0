"""Printing a benchmark's figures as a short table and keeping them as JSON."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Where the JSON goes; DXC_BENCH_RESULTS_DIR moves it (the test suite keeps the repo's untouched).
RESULTS_DIR = Path(os.environ.get("DXC_BENCH_RESULTS_DIR") or Path(__file__).parent / "results")


def machine() -> dict[str, Any]:
    """Where the figures came from: they mean little without it."""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def report(name: str, rows: list[tuple[str, Any, str]], details: dict[str, Any]) -> Path:
    """Print `rows` (figure, value, target or note) and write them with `details` to
    bench/results/<name>.json; returns that path."""
    width = max(len(label) for label, _, _ in rows)
    print(f"\n{name}")
    for label, value, note in rows:
        shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}"
        print(f"  {label:<{width}}  {shown:>14}  {note}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    figures = {label: value for label, value, _ in rows}
    path.write_text(json.dumps({"figures": figures, "machine": machine(), **details}, indent=2))
    print(f"  (written to {path})")
    return path
