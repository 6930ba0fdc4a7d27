"""The Dask launcher: trials run on the workers of a Dask cluster.

``--dask local`` starts a loopback-only ``LocalCluster`` of one worker for the run and
stops it at the end; ``--dask tcp://HOST:PORT`` uses a running scheduler, whose workers
may be other machines (each with queuebench importable there). Either way each trial is
still a fresh ``python -m harness.worker`` process, started on the Dask worker's machine
by the local launcher there, under its watchdog; Dask only carries the trial there and
its raw output back.

One trial per machine at a time: every trial asks for the worker resource ``trial = 1``,
so a worker started with ``--resources trial=1`` never runs two trials at once (two
trials sharing a machine's cores would disturb each other). ``LocalCluster`` workers are
given that resource here; start remote workers with ``dask worker ... --resources
trial=1 --nthreads 1``. A worker without it never gets a trial.

No wait on the cluster is open-ended: each has a deadline of ``timeout`` seconds
(``--dask-timeout``, ``QUEUEBENCH_DASK_TIMEOUT``; :data:`DEFAULT_TIMEOUT_S`) and ends in
one :class:`~harness.errors.WorkerError` line:

* the scheduler's answer: its identity is asked first, under that deadline, because
  ``distributed.Client(timeout=...)`` bounds the TCP connect but not the handshake after it,
  so a listener that accepts and never answers would hold the client forever;
* a local cluster's worker starting (``death_timeout`` of its nanny; a worker that fails
  to start is said with its reason);
* a worker holding ``trial`` to appear after connecting;
* while a trial is pending or running: a trial waits as long as it runs (its own watchdog
  bounds it on the worker), but not once no worker can take it (none holds ``trial``, or
  the pinned one left) for ``timeout`` seconds, nor once the client lost the scheduler.

Dask is imported lazily: it is needed only when this launcher is chosen.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import WorkerError
from harness.running.launchers.base import Probe, TrialOutput, TrialSpec, UserCode

if TYPE_CHECKING:
    from distributed import Client, Future, LocalCluster

#: distributed's client logger: it logs a lost scheduler that this launcher says itself.
_CLIENT_LOGGER = "distributed.client"
#: The worker resource each trial takes: one trial per worker (per machine) at a time.
RESOURCE = "trial"
#: Seconds each wait on the cluster may take by default (connect, a worker to start or appear).
DEFAULT_TIMEOUT_S = 10.0
#: Where the deadline comes from when not given (the CLI's --dask-timeout reads it too; so does
#: the ``dask`` strategy, in the trial's own process).
TIMEOUT_ENV = "QUEUEBENCH_DASK_TIMEOUT"


def default_timeout() -> float:
    """``QUEUEBENCH_DASK_TIMEOUT`` when it is a positive number of seconds, else the default."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV, ""))
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if value > 0 else DEFAULT_TIMEOUT_S


def _one_line(exc: BaseException) -> str:
    """An exception and its cause as one line: ``Nanny failed to start. (RuntimeError: boom)``."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause).strip() and str(cause).strip() not in text:
        text += f" ({type(cause).__name__}: {' '.join(str(cause).split())})"
    return text


def _root_reason(exc: BaseException) -> str:
    """Why a connect failed, in words: the first cause that is an OS error (``Connection refused``),
    else the first message in the chain (``Timed out trying to connect to ... after 2 s``)."""
    chain: list[BaseException] = []
    at: BaseException | None = exc
    while at is not None and at not in chain:
        chain.append(at)
        at = at.__cause__ or at.__context__
    for cause in reversed(chain):
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
    for said in chain:
        if text := " ".join(str(said).split()):
            return text
    return type(exc).__name__


async def _identity(address: str, seconds: float, args: dict[str, Any]) -> dict[str, Any]:
    from distributed.core import rpc

    # Its connect gives up first (with its reason: refused, unreachable); the handshake after it has
    # no deadline of distributed's own: ask_scheduler's is the one.
    async with rpc(address, timeout=round(seconds * 0.8, 3), connection_args=args) as remote:
        info: dict[str, Any] = await remote.identity()
        return info


def ask_scheduler(address: str, seconds: float) -> dict[str, Any]:
    """The scheduler's identity, or one line why not, within ``seconds``: refused, silent,
    or not a scheduler."""

    try:  # imported before the clock starts: importing distributed takes a second or more
        from distributed.security import Security
    except ImportError as exc:
        raise WorkerError(f"--dask needs the distributed package ({exc})") from None
    args = Security().get_connection_args("client")  # as a Client would connect (tls:// from the config)

    def ask() -> dict[str, Any]:
        return asyncio.run(asyncio.wait_for(_identity(address, seconds, args), seconds))

    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the usual case: no event loop in this thread
            info = ask()
        else:  # called from async code (a notebook): its own loop in a thread, as bounded
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                info = pool.submit(ask).result()
    except TimeoutError:
        raise WorkerError(
            f"the Dask scheduler at {address} did not answer within {seconds:g} s "
            "(the connection was accepted but nothing came back: is it a Dask scheduler?)"
        ) from None
    # Refused, unreachable (CommClosedError is an OSError), a bad address (ValueError), tls:// without
    # the TLS configuration (TypeError: distributed's own words say so).
    except (OSError, ValueError, TypeError) as exc:
        raise WorkerError(f"cannot reach the Dask scheduler at {address}: {_root_reason(exc)}") from None
    if not isinstance(info, dict) or info.get("type") != "Scheduler":
        kind = info.get("type") if isinstance(info, dict) else type(info).__name__
        raise WorkerError(f"{address} is a Dask {kind}, not a scheduler; give the scheduler's address")
    return info


def _able(workers: dict[str, Any]) -> list[str]:
    """Of a scheduler's workers (its identity's ``workers``), those holding ``trial``."""
    return sorted(a for a, w in workers.items() if ((w or {}).get("resources") or {}).get(RESOURCE, 0) >= 1)


def _stop_strays(strays: set[multiprocessing.process.BaseProcess]) -> None:
    """Stop the worker processes a failed cluster start left starting, and see them end: signalled,
    not ``terminate()``-d and joined, so distributed's own watcher reaps each (else it warns at exit)."""
    for stray in strays:
        with contextlib.suppress(OSError):
            os.kill(stray.pid or 0, signal.SIGTERM)
    wait_until = time.monotonic() + 5
    for stray in strays:
        while hasattr(os, "waitid") and stray.pid and time.monotonic() < wait_until:
            try:  # WNOWAIT: look, leave it for its reaper
                if os.waitid(os.P_PID, stray.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
                    break
            except ChildProcessError:  # already reaped
                break
            time.sleep(0.02)
    time.sleep(0.1)  # its watcher thread reaps it now


def _on_worker_probe(python: str | None, recalibrate: bool, user: UserCode | None = None) -> dict[str, Any]:
    """On the Dask worker: probe the worker interpreter of that machine."""
    from harness.running.launchers.local import LocalLauncher

    return LocalLauncher(python, recalibrate=recalibrate, user=user).probe_answer()


def _on_worker_available(python: str | None, user: UserCode | None = None) -> dict[str, Any]:
    from harness.running.launchers.local import LocalLauncher

    return LocalLauncher(python, user=user).available()


def _on_worker_run(
    python: str | None, spec: TrialSpec, env: dict[str, str] | None = None, user: UserCode | None = None
) -> TrialOutput:
    """On the Dask worker: one trial through that machine's local launcher (the user's ``paths``
    are folders of *that* machine: the same path as here on a cluster sharing one file system)."""
    from distributed import get_worker

    from harness.running.launchers.local import LocalLauncher

    out = LocalLauncher(python, env=env, user=user).run(spec)
    out.where = f"{socket.gethostname()} (dask worker {get_worker().address})"
    return out


class DaskLauncher:
    """Runs each trial as a task on a Dask worker that holds the ``trial`` resource.

    ``address`` is ``"local"`` (a loopback LocalCluster started here) or a scheduler's
    ``tcp://HOST:PORT``; ``worker`` pins every trial to one worker (``--each-worker``).
    ``python`` is the worker interpreter *on the Dask worker's machine* (default: the
    interpreter the Dask worker itself runs). ``timeout`` bounds every wait on the cluster
    (see the module docstring); default :func:`default_timeout`.
    """

    name = "dask"

    def __init__(
        self,
        address: str = "local",
        python: str | None = None,
        recalibrate: bool = False,
        worker: str | None = None,
        root: Path | None = None,
        timeout: float | None = None,
        user: UserCode | None = None,
    ) -> None:
        self.user = user or UserCode()
        self.address = address
        self.python = python
        self.recalibrate = recalibrate
        self.worker = worker
        self.root = root
        self.timeout = float(timeout) if timeout is not None else default_timeout()
        if not self.timeout > 0:
            raise WorkerError(f"the Dask timeout must be a positive number of seconds, not {timeout!r}")
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None
        self._loud: int | None = None  # the client logger's level before _quiet

    # -- the cluster -----------------------------------------------------------------

    def client(self) -> Client:
        if self._client is None:
            try:
                from distributed import Client
            except ImportError as exc:
                raise WorkerError(f"--dask needs the distributed package ({exc})") from None
            self._quiet()
            try:
                if self.address == "local":
                    self._client = Client(self._start_local(), timeout=self.timeout)
                else:
                    ask_scheduler(self.address, self.timeout)  # refused or silent: one line, in time
                    self._client = Client(self.address, timeout=self.timeout)
                self._await_a_worker()
            except (OSError, ValueError, TypeError) as exc:  # TimeoutError is an OSError
                self.close()
                raise WorkerError(f"cannot reach the Dask scheduler at {self.address}: {_root_reason(exc)}") from None
            except BaseException:
                self.close()
                raise
        return self._client

    def _start_local(self) -> LocalCluster:
        """A loopback cluster of one worker holding ``trial``, or one line why not, in time."""
        from distributed import LocalCluster

        t0, before = time.monotonic(), set(multiprocessing.active_children())
        try:
            self._cluster = LocalCluster(
                n_workers=1,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # Its health routes on a free loopback port: 8787 may be taken (a warning, not one line).
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                resources={RESOURCE: 1},
                silence_logs=logging.CRITICAL,  # its own failure is said below, in one line
                death_timeout=self.timeout,  # the nanny gives up on a worker that does not start
            )
        except Exception as exc:  # distributed says a worker that did not start in several ways
            self.close()
            _stop_strays(set(multiprocessing.active_children()) - before)
            if isinstance(exc, TimeoutError) or time.monotonic() - t0 >= self.timeout:
                raise WorkerError(
                    f"the local Dask cluster's worker did not start within {self.timeout:g} s "
                    "(--dask-timeout); see the Dask worker's configuration (preloads, memory, interpreter)"
                ) from None
            raise WorkerError(f"the local Dask cluster's worker could not start: {_one_line(exc)}") from None
        return self._cluster

    def _await_a_worker(self) -> None:
        """Within ``timeout``, a worker that holds ``trial``; else one line naming what is missing."""
        deadline = time.monotonic() + self.timeout
        while not _able(info := self._workers_info()):
            if time.monotonic() >= deadline:
                others = f"; it has {len(info)} worker(s) without it" if info else "; it has no worker at all"
                raise WorkerError(
                    f"the Dask scheduler at {self.address} has no worker with the resource {RESOURCE}=1 "
                    f"after {self.timeout:g} s{others}; start workers with: "
                    f"dask worker {self.address} --nthreads 1 --resources {RESOURCE}=1"
                )
            time.sleep(min(0.2, self.timeout / 10))

    def _workers_info(self) -> dict[str, Any]:
        """The scheduler's workers as it says now, asked on a connection of its own under the deadline
        (the client's ``scheduler_info()`` would wait forever on a scheduler gone silent)."""
        client = self.client()
        address = str(getattr(client.scheduler, "address", None) or self.address)
        workers = ask_scheduler(address, self.timeout).get("workers")
        return dict(workers) if isinstance(workers, dict) else {}

    def workers(self) -> list[str]:
        """Addresses of the workers that can take trials (they hold the ``trial`` resource)."""
        return _able(self._workers_info())

    def pinned(self, worker: str) -> DaskLauncher:
        """The same cluster, every trial on ``worker`` (one run per machine)."""
        twin = DaskLauncher(self.address, self.python, self.recalibrate, worker, self.root, self.timeout, self.user)
        twin._client, twin._cluster = self.client(), None  # shared; closed by the original
        return twin

    def _quiet(self) -> None:
        """While this launcher holds a client, distributed's client logger is quiet below CRITICAL: what
        goes wrong (a lost scheduler it failed to reconnect to) is said in one WorkerError line instead."""
        if self._loud is None:
            self._loud = logging.getLogger(_CLIENT_LOGGER).level
            logging.getLogger(_CLIENT_LOGGER).setLevel(logging.CRITICAL)

    def close(self) -> None:
        for closing in (self._client, self._cluster):
            if closing is not None:
                with contextlib.suppress(Exception):
                    closing.close()
        self._client = self._cluster = None
        if self._loud is not None:
            logging.getLogger(_CLIENT_LOGGER).setLevel(self._loud)
            self._loud = None

    def _call(self, fn: Any, *args: Any) -> Any:
        client = self.client()
        where = {"workers": [self.worker], "allow_other_workers": False} if self.worker else {}
        future = client.submit(fn, *args, resources={RESOURCE: 1}, pure=False, **where)
        try:
            return self._result(client, future)
        except BaseException:
            future.cancel()
            raise

    def _result(self, client: Client, future: Future[Any]) -> Any:
        """The task's result: as long as it runs, but never once no worker can take it for ``timeout``."""
        step = max(0.05, min(1.0, self.timeout / 4))
        missing_since: float | None = None
        while True:
            try:
                return future.result(timeout=step)
            except TimeoutError:
                if future.done():  # the task's own TimeoutError, not the wait's
                    raise
            # The client lost the scheduler: its futures are cancelled (distributed's FutureCancelledError
            # derives from this one; older releases raised it as is).
            except concurrent.futures.CancelledError:
                raise WorkerError(
                    f"lost the Dask scheduler at {self.address} while a trial was pending or running "
                    "(the connection dropped and did not come back)"
                ) from None
            if client.status not in ("running", "connecting"):
                raise WorkerError(f"lost the Dask scheduler at {self.address} (the client is {client.status})")
            try:
                able = self.workers()
            except WorkerError as exc:  # gone silent or away mid-run: said as such
                raise WorkerError(f"lost the Dask scheduler while a trial was pending or running: {exc}") from None
            if (self.worker in able) if self.worker else bool(able):
                missing_since = None
            elif missing_since is None:
                missing_since = time.monotonic()
            elif time.monotonic() - missing_since >= self.timeout:
                which = f"worker {self.worker}" if self.worker else f"worker with the resource {RESOURCE}=1"
                raise WorkerError(
                    f"the Dask scheduler at {self.address} has had no {which} for {self.timeout:g} s "
                    "(gone from the cluster, or never in it); the trial cannot run"
                )

    # -- the launcher contract ---------------------------------------------------------

    def probe(self) -> Probe:
        result: dict[str, Any] = self._call(_on_worker_probe, self.python, self.recalibrate, self.user)
        result["launcher"] = {"name": self.name, "scheduler": self.address, "worker": self.worker}
        return Probe.from_answer(result)

    def available(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call(_on_worker_available, self.python, self.user)
        return result

    def run(self, spec: TrialSpec) -> TrialOutput:
        env = {TIMEOUT_ENV: f"{self.timeout:g}"}  # the dask strategy's own waits, in the trial
        out: TrialOutput = self._call(_on_worker_run, self.python, spec, env, self.user)
        return out
