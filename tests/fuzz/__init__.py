"""The parts of ``make fuzz`` (its driver is tests/fuzzing.py): hostile scenario files
(``hostile_scenarios``), damaged results folders (``damaged_results``), commands run in-process
and judged (``in_process``), per-command peak memory (``peaks``), and the cases the workers run
(``cases``)."""

from __future__ import annotations

from pathlib import Path

#: The repository: the scenarios the base runs use, and the working folder of real subprocesses.
ROOT = Path(__file__).resolve().parent.parent.parent
