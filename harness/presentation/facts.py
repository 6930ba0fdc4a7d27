"""A run's facts as one line of text: the machine (:func:`fingerprint_line`) and a scenario's
workload (:func:`workload_line`), for the terminal, the report and the figures' titles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.rundir.model import Fingerprint


def fingerprint_line(fp: Fingerprint) -> str:
    gil = "" if fp.python.get("gil_enabled", True) else " (free-threaded)"
    return (
        f"{fp.os} {fp.os_release} {fp.arch} · {fp.cpu_model} · "
        f"{fp.logical_cores} cores, {fp.effective_parallelism} effective · "
        f"{fp.python_implementation} {fp.python_version}{gil} · start method {fp.start_method}"
    )


def workload_line(definition: Mapping[str, Any]) -> str:
    """'10 writers x 10 items -> pool of 3 · write io 5 ms · read io 6 ms' from a definition."""

    def work(side: str, spec: Mapping[str, Any]) -> str:
        kind = spec.get("kind", "none")
        if kind == "none":
            return f"{side}: no work"
        gil = f", GIL {spec.get('gil')}" if kind == "cpu" else ""
        return f"{side}: {kind} {spec.get('ms', 0):g} ms{gil}"

    d = definition
    return (
        f"{d['writers']} writers × {d['items_per_writer']} items → pool of {d['readers']} · "
        f"{work('write', d.get('writer_work', {}))} · {work('read', d.get('reader_work', {}))}"
    )
