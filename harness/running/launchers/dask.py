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

Dask is imported lazily: it is needed only when this launcher is chosen.
"""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import WorkerError
from harness.running.launchers.base import Probe, TrialOutput, TrialSpec

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

#: The worker resource each trial takes: one trial per worker (per machine) at a time.
RESOURCE = "trial"
CONNECT_TIMEOUT_S = 10


def _on_worker_probe(python: str | None, recalibrate: bool) -> dict[str, Any]:
    """On the Dask worker: probe the worker interpreter of that machine."""
    from harness.running.launchers.local import LocalLauncher

    return LocalLauncher(python, recalibrate=recalibrate).probe_answer()


def _on_worker_available(python: str | None) -> dict[str, Any]:
    from harness.running.launchers.local import LocalLauncher

    return LocalLauncher(python).available()


def _on_worker_run(python: str | None, spec: TrialSpec) -> TrialOutput:
    """On the Dask worker: one trial through that machine's local launcher."""
    from distributed import get_worker

    from harness.running.launchers.local import LocalLauncher

    out = LocalLauncher(python).run(spec)
    out.where = f"{socket.gethostname()} (dask worker {get_worker().address})"
    return out


class DaskLauncher:
    """Runs each trial as a task on a Dask worker that holds the ``trial`` resource.

    ``address`` is ``"local"`` (a loopback LocalCluster started here) or a scheduler's
    ``tcp://HOST:PORT``; ``worker`` pins every trial to one worker (``--each-worker``).
    ``python`` is the worker interpreter *on the Dask worker's machine* (default: the
    interpreter the Dask worker itself runs).
    """

    name = "dask"

    def __init__(
        self,
        address: str = "local",
        python: str | None = None,
        recalibrate: bool = False,
        worker: str | None = None,
        root: Path | None = None,
    ) -> None:
        self.address = address
        self.python = python
        self.recalibrate = recalibrate
        self.worker = worker
        self.root = root
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None

    # -- the cluster -----------------------------------------------------------------

    def client(self) -> Client:
        if self._client is None:
            try:
                from distributed import Client, LocalCluster
            except ImportError as exc:
                raise WorkerError(f"--dask needs the distributed package ({exc})") from None
            try:
                if self.address == "local":
                    self._cluster = LocalCluster(
                        n_workers=1,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                        resources={RESOURCE: 1},
                    )
                    self._client = Client(self._cluster, timeout=CONNECT_TIMEOUT_S)
                else:
                    self._client = Client(self.address, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError) as exc:
                self.close()
                raise WorkerError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from None
            if not self.workers():
                self.close()
                raise WorkerError(
                    f"the Dask scheduler at {self.address} has no worker with the resource {RESOURCE}=1; "
                    f"start workers with: dask worker {self.address} --nthreads 1 --resources {RESOURCE}=1"
                )
        return self._client

    def workers(self) -> list[str]:
        """Addresses of the workers that can take trials (they hold the ``trial`` resource)."""
        info = self.client().scheduler_info()["workers"] if self._client is not None else {}
        return sorted(addr for addr, w in info.items() if (w.get("resources") or {}).get(RESOURCE, 0) >= 1)

    def pinned(self, worker: str) -> DaskLauncher:
        """The same cluster, every trial on ``worker`` (one run per machine)."""
        twin = DaskLauncher(self.address, self.python, self.recalibrate, worker, self.root)
        twin._client, twin._cluster = self.client(), None  # shared; closed by the original
        return twin

    def close(self) -> None:
        for closing in (self._client, self._cluster):
            if closing is not None:
                with contextlib.suppress(Exception):
                    closing.close()
        self._client = self._cluster = None

    def _call(self, fn: Any, *args: Any) -> Any:
        client = self.client()
        where = {"workers": [self.worker], "allow_other_workers": False} if self.worker else {}
        future = client.submit(fn, *args, resources={RESOURCE: 1}, pure=False, **where)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    # -- the launcher contract ---------------------------------------------------------

    def probe(self) -> Probe:
        result: dict[str, Any] = self._call(_on_worker_probe, self.python, self.recalibrate)
        result["launcher"] = {"name": self.name, "scheduler": self.address, "worker": self.worker}
        return Probe.from_answer(result)

    def available(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call(_on_worker_available, self.python)
        return result

    def run(self, spec: TrialSpec) -> TrialOutput:
        out: TrialOutput = self._call(_on_worker_run, self.python, spec)
        return out
