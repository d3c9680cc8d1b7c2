"""Benchmarks, each run from the project root as a module (``python -m bench.lookup``), each
printing a table beside a baseline measured in the same run.

The Slack benchmarks reuse the test suite's fake Slack Web API and request signing
(``tests/fakeslack.py``, ``tests/slack_signing.py``), so that folder is put on the path here,
once.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.append(str(ROOT / "tests"))
