"""call: your own function per item (standard library only).

``reader_work = { kind = "call", call = "mypkg.push:push" }`` calls ``push(writer, seq, payload)``
for every item a reader takes (``writer_work``: every item a writer makes), with the item's
identity and its payload bytes, and the item's work is done when it returns. No ``ms``: the work
takes as long as it takes.

* ``setup = "mypkg.push:client"``: a context-manager factory, entered once per reader (thread,
  task or process; per writer for ``writer_work``) before its first item and exited when the
  trial ends; what it yields is passed as a fourth argument, ``push(writer, seq, payload, client)``.
* An ``async def`` function is awaited by the async strategies; the other strategies refuse it
  before the trial starts (:meth:`CallKind.ready`), as they refuse a sync function that would
  block an event loop nowhere: the error names the strategies that can run it.
* An exception in your function fails the trial with your traceback (file and line): it is
  written to the trial's scratch folder (any process's, a reader process's included) and the
  worker puts it first among the trial's errors (:func:`raised`).
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import os
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from strategies.base import Calibration, WorkSpec
from strategies.kinds import AItemPerform, ItemPerform, Kind, Running
from strategies.loader import resolve

#: The scratch folder's subfolder where your code's tracebacks are written, one file each.
ERRORS = "user-errors"
#: How many of your function's tracebacks a process writes at most (the first ones tell).
MAX_WRITTEN = 5
_counter = itertools.count()


class UserCodeError(Exception):
    """Your function raised: the message is your exception and where it was raised."""

    #: The worker says the message alone, not this class's qualified name.
    plain = True

    def __repr__(self) -> str:  # a strategy's "reader: {exc!r}": the first line (the rest is said once)
        return f"UserCodeError({str(self).partition(chr(10))[0]!r})"


def _target(spec: WorkSpec, name: str) -> str:
    return str(spec.param(name) or "")


def load(target: str, what: str) -> Callable[..., Any]:
    """The callable ``target`` ("module:function") names, or UserCodeError saying why not,
    with the import's own traceback (the file and line of your module that failed)."""
    try:
        fn = resolve(target)
    except BaseException as exc:
        raise UserCodeError(f"{what} {target!r} cannot be loaded: {_told(exc, skip=0)}") from None
    if not callable(fn):
        raise UserCodeError(f"{what} {target!r} is a {type(fn).__name__}, not a function")
    return fn  # type: ignore[no-any-return]


def _told(exc: BaseException, skip: int = 1) -> str:
    """``Type: message`` then your frames (file, line, code), without ``skip`` frames of ours."""
    tb = exc.__traceback__
    for _ in range(skip):
        if tb is not None:
            tb = tb.tb_next
    frames = traceback.format_list(traceback.extract_tb(tb, limit=-8))
    head = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return head + ("\n" + "".join(frames).rstrip() if frames else "")


def _write(text: str) -> None:
    """Keep your traceback where the worker finds it, whichever process raised it."""
    scratch = os.environ.get("QUEUEBENCH_SCRATCH", "")
    n = next(_counter)
    if not scratch or n >= MAX_WRITTEN:
        return
    folder = os.path.join(scratch, ERRORS)
    with contextlib.suppress(OSError):
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{os.getpid()}-{threading.get_ident()}-{n}.txt")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)


def raised(scratch: str) -> list[str]:
    """Your code's tracebacks that this trial's processes wrote, oldest first."""
    folder = os.path.join(scratch, ERRORS)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    paths = sorted((os.path.join(folder, n) for n in names), key=lambda p: os.stat(p).st_mtime_ns)
    out = []
    for path in paths:
        with contextlib.suppress(OSError), open(path, encoding="utf-8", errors="replace") as fh:
            out.append(fh.read())
    return out


class _Bound:
    """One side's function, with what its ``setup`` gave it (once per reader or writer)."""

    def __init__(self, spec: WorkSpec) -> None:
        self.target = _target(spec, "call")
        self.fn = load(self.target, "call")
        self.is_async = inspect.iscoroutinefunction(self.fn)
        self.extra: tuple[Any, ...] = ()
        self._exit: contextlib.ExitStack | None = None
        if setup := _target(spec, "setup"):
            factory = load(setup, "setup")
            stack = contextlib.ExitStack()
            try:
                self.extra = (stack.enter_context(factory()),)
            except BaseException as exc:
                text = f"setup {setup!r} raised {_told(exc)}"
                _write(text)
                raise UserCodeError(text) from None
            self._exit = stack
            _closing(self)

    def failed(self, exc: BaseException) -> UserCodeError:
        text = f"{self.target} raised {_told(exc)}"
        _write(text)
        return UserCodeError(text)

    def __call__(self, seconds: float, writer: int, seq: int, payload: bytes) -> object:
        if self.is_async:  # ready() refuses this before a trial starts; a direct caller learns why
            raise UserCodeError(f"call {self.target!r} is async: run it under an async strategy")
        try:
            return self.fn(writer, seq, payload, *self.extra)
        except Exception as exc:
            raise self.failed(exc) from None

    async def acall(self, seconds: float, writer: int, seq: int, payload: bytes) -> object:
        try:
            if self.is_async:
                return await self.fn(writer, seq, payload, *self.extra)
            return self.fn(writer, seq, payload, *self.extra)  # a sync function, inline on the loop
        except Exception as exc:
            raise self.failed(exc) from None

    def close(self) -> None:
        stack, self._exit = self._exit, None
        if stack is not None:
            try:
                stack.close()
            except Exception as exc:
                _write(f"setup {self.target!r}'s exit raised {_told(exc)}")


_OPEN: list[_Bound] = []
_OPEN_PID = 0


def _closing(bound: _Bound) -> None:
    """Exit ``bound``'s setup when this trial (:func:`close_all`) or this process ends."""
    global _OPEN_PID
    if os.getpid() != _OPEN_PID:  # a forked child does not close its parent's
        _OPEN.clear()
        _OPEN_PID = os.getpid()
        from multiprocessing import util

        util.Finalize(None, close_all, exitpriority=20)  # a reader process's normal exit
    _OPEN.append(bound)


def close_all() -> None:
    """Exit every setup this process entered (the worker calls it when the strategy returns)."""
    while _OPEN:
        _OPEN.pop().close()


class CallKind(Kind):
    name = "call"
    summary = "your own function per item: call = 'module:function' (sync or async), optional setup"
    awaits = True  # an async function is awaited; a sync one runs inline
    timed = False
    per_item = True
    params: ClassVar[Mapping[str, Any]] = {"call": "", "setup": ""}

    def check(self, spec: WorkSpec) -> None:
        for name in ("call", "setup"):
            value = spec.param(name)
            if not isinstance(value, str):
                raise ValueError(f"{name}: must be a 'module:function' string")
            if (value or name == "call") and (":" not in value or not all(value.partition(":")[::2])):
                raise ValueError(f"{name}: {value!r} is not 'module:function' (e.g. 'mypkg.push:push')")

    def ready(self, spec: WorkSpec, is_async: bool) -> None:
        fn = load(_target(spec, "call"), "call")
        if _target(spec, "setup"):
            load(_target(spec, "setup"), "setup")
        if inspect.iscoroutinefunction(fn) and not is_async:
            raise UserCodeError(
                f"call {_target(spec, 'call')!r} is an async function: run it under asyncio or "
                "asyncio-uvloop (-s asyncio), or give a plain function for this strategy"
            )

    def prepare_item(self, spec: WorkSpec, cal: Calibration) -> ItemPerform:
        return _Bound(spec)

    def start(self, spec: WorkSpec, role: str) -> Running:
        def stop() -> dict[str, Any]:
            close_all()  # the setups of the readers that ran in this process (threads, tasks)
            return {"user_errors": raised(os.environ.get("QUEUEBENCH_SCRATCH", ""))}

        return Running(spec, stop)

    def aprepare_item(self, spec: WorkSpec, cal: Calibration, prepared: ItemPerform | None = None) -> AItemPerform:
        bound = prepared if isinstance(prepared, _Bound) else _Bound(spec)
        return bound.acall


KIND = CallKind()
