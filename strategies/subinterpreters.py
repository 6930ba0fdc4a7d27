"""subinterpreters: readers as PEP 734 subinterpreters, items through an interpreter queue.

``readers`` subinterpreters (each with its own GIL) each run one reader loop until a
sentinel; writers are threads in the main interpreter. Items cross through
``create_queue()``: an item is a tuple of ints, a float and bytes, all shareable, so it
is copied between interpreters without pickling. The reader's instrumentation runs
*inside* its subinterpreter: ``ReaderSide`` claims its reader id by creating its record
file exclusively (not by pid, which every subinterpreter shares). Only shareable objects
cross, so the workload travels as JSON text (``Workload.to_dict`` / ``from_dict``).

The PEP 734 module is the standard library's ``concurrent.interpreters`` on 3.14+ and
the backport's ``interpreters_backport.interpreters`` (PyPI: ``interpreters-pep-734``,
which on 3.12 also needs the low-level modules of ``interpreters-3-12``) on 3.12/3.13.
It is imported when a trial runs; this module itself is standard library only.

The API's blocking ``get()``/``put()`` poll every 10 ms while the queue is empty (full):
that is how the model behaves in 3.13 and 3.14, so it is measured as it is.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
from types import ModuleType
from typing import Any

from strategies.base import Trace, Workload, now
from strategies.instrument import WriterSide

STDLIB_API = "concurrent.interpreters"
BACKPORT_API = "interpreters_backport.interpreters"

#: The loop each reader subinterpreter runs (in its own ``__main__``, given ``items``,
#: ``ready`` and ``workload_json``): make the reader, say it is up, consume until None.
READER_LOOP = """
import json
from strategies.base import Workload
from strategies.instrument import ReaderSide

side = ReaderSide(Workload.from_dict(json.loads(workload_json)))
ready.put(side.reader_id)
get, consume = items.get, side.consume
while (item := get()) is not None:
    consume(item)
"""


def api_name() -> str:
    """The PEP 734 module this interpreter uses."""
    return STDLIB_API if sys.version_info >= (3, 14) else BACKPORT_API


def api() -> ModuleType:
    return importlib.import_module(api_name())


def unavailable() -> str:
    """The registry's check: '' where PEP 734 subinterpreters can run here, else why not."""
    name = api_name()
    if sys.version_info < (3, 13) and (crash := _import_crashes(name)):
        return crash
    try:
        api()
    except ImportError as exc:
        if name == STDLIB_API:
            return f"needs {name} ({exc})"
        extra = " and interpreters-3-12" if sys.version_info < (3, 13) else ""
        return f"needs {name}: pip install interpreters-pep-734{extra} ({exc})"
    return ""


def _import_crashes(name: str) -> str:
    """On 3.12 the backport's low-level modules are a C extension (interpreters-3-12) built
    against CPython's internals, and it can crash the interpreter on import (it segfaults
    under 3.12.1 here): try the import in a child first, so the probe itself survives."""
    import subprocess

    child = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, timeout=60, check=False)
    if child.returncode < 0:
        return f"importing {name} kills the interpreter (signal {-child.returncode}): its 3.12 build is broken here"
    return ""


def create_queue(interp_api: ModuleType, maxsize: int) -> Any:
    """A queue for shareable objects only (no pickling) where the API lets one ask for it
    (the backport's ``syncobj``); 3.14 shares shareable objects by itself."""
    try:
        return interp_api.create_queue(maxsize, syncobj=True)
    except TypeError:
        return interp_api.create_queue(maxsize)


def _reader(interp: Any, n: int, errors: list[str]) -> None:
    try:
        interp.exec(READER_LOOP)
    except BaseException as exc:  # ExecutionFailed carries the subinterpreter's traceback as text
        errors.append(f"reader {n}: {exc!r}")


def _write(q: Any, ws: WriterSide, errors: list[str]) -> None:
    try:
        for seq in range(ws.n):
            q.put(ws.make(seq))
            ws.mark_enqueued(seq)
    except BaseException as exc:  # a writer thread's death (even an injected one) is reported
        errors.append(f"writer {ws.writer}: {exc!r}")


def _wait_ready(ready: Any, empty: type[BaseException], readers: list[threading.Thread]) -> int:
    """Wait until every reader is up (or has already ended, failing); how many are up."""
    up = 0
    while up + sum(not t.is_alive() for t in readers) < len(readers):
        try:
            ready.get_nowait()
            up += 1
        except empty:
            time.sleep(0.0005)
    return up


def run(workload: Workload) -> Trace:
    trace = Trace(setup_start=now())
    interp_api = api()
    items = create_queue(interp_api, workload.queue_maxsize)
    ready = create_queue(interp_api, 0)
    spec = json.dumps(workload.to_dict())
    interps, readers = [], []
    for n in range(workload.readers):
        interp = interp_api.create()
        interp.exec(f"import {api_name()}\n{api_name()}.Queue")  # registers the queue type there
        interp.prepare_main(items=items, ready=ready, workload_json=spec)
        interps.append(interp)
        readers.append(threading.Thread(target=_reader, args=(interp, n, trace.errors), name=f"reader-{n}"))
    for t in readers:
        t.start()
    _wait_ready(ready, interp_api.QueueEmpty, readers)
    sides = [WriterSide(workload, w) for w in range(workload.writers)]
    writers = [threading.Thread(target=_write, args=(items, ws, trace.errors)) for ws in sides]
    trace.start = now()  # every subinterpreter is up: the start line
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    for _ in readers:
        items.put(None)
    for t in readers:
        t.join()
    trace.end = now()
    for interp in interps:
        interp.close()
    return trace
