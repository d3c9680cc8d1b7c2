"""``python -m bench.lookup --quick`` runs end to end (figures are not checked here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.lookup", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| what | aliases | queries | ours median ms | ours p99 ms |" in result.stdout
    assert "## Scorer comparison" in result.stdout
    assert "| hybrid |" in result.stdout
