"""``queuebench ab A B``: two sides measured in ONE run, trial by trial, A B then B A ...

Runs made at different times on a shared machine are not samples of one distribution;
pyperf and asv answer this by interleaving both sides in one session, so drift hits both
alike. queuebench's worker is standard-library code started as ``python -m harness.worker``
from a tree on ``PYTHONPATH`` (the local launcher's ``root``), so a side is simply a
launcher:

* a **source tree**: a directory holding ``strategies/`` (e.g. a ``git worktree`` of main);
* a **git ref** of the current repository, checked out into a temporary worktree that is
  removed afterwards;
* ``python:PATH``: this tree, under another interpreter;
* **your project**: a git ref of *your* repository (or a folder of it) that holds no
  queuebench: queuebench runs from where it is installed, and the side's own checkout goes on
  the worker's path (its ``src/`` too, and each ``--path`` inside the repository mapped into
  it), so each side's functions and strategies are that commit's.

Each side may carry extra environment (``--a-env``/``--b-env KEY=VALUE``, e.g.
``PYTHONMALLOC=debug``). ``ab . .`` is an A/A run. The run directory holds both sides'
trials (each with ``side``), and the verdicts are ``compare``'s, A the baseline and B the
current, with the family-wise control; the drift guard does not apply within one session.
"""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import CompareError, SideError
from harness.gate.compare import Report, compare
from harness.rundir.model import Run
from harness.running import suite
from harness.running.launchers import Launcher, Probe, make
from harness.running.launchers.base import UserCode
from harness.scenario import LoadedScenario

SIDES = ("A", "B")


@dataclass
class Side:
    name: str  # "A" or "B"
    spec: str  # as the user wrote it
    kind: str  # "tree", "git", "python", "project" (a folder of yours), "project-git" (a ref of yours)
    root: Path
    python: str
    env: dict[str, str] = field(default_factory=dict)
    commit: str | None = None  # for a git ref: the commit checked out
    #: Your project's files for this side (its checkout), and the working tree they stand for.
    project: Path | None = None
    repo: Path | None = None

    def launcher(self, recalibrate: bool = False, user: UserCode | None = None) -> Launcher:
        user = self.user_code(user or UserCode())
        return make("local", python=self.python, root=self.root, recalibrate=recalibrate, env=self.env, user=user)

    def user_code(self, user: UserCode) -> UserCode:
        """``user`` as this side sees it: on a side of your project, its checkout's folders
        first, and every folder inside your working tree mapped into that checkout."""
        if self.project is None:
            return user
        mapped: list[str] = []
        for path in user.paths:
            try:
                mapped.append(str(self.project / Path(path).relative_to(self.repo or self.project)))
            except ValueError:  # outside the repository: the same folder for both sides
                mapped.append(path)
        own = [str(self.project / "src")] if (self.project / "src").is_dir() else []
        paths = tuple(dict.fromkeys([*own, str(self.project), *mapped]))
        return dataclasses.replace(user, paths=paths)

    def describe(self) -> str:
        what = {
            "tree": f"tree {self.root}",
            "git": f"git {self.spec} ({(self.commit or '')[:12]})",
            "project": f"your project at {self.project}",
            "project-git": f"your project at {self.spec} ({(self.commit or '')[:12]})",
        }
        text = what.get(self.kind, f"python {self.python}")
        return text + "".join(f" {k}={v}" for k, v in sorted(self.env.items()))

    def record(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "kind": self.kind,
            "root": str(self.root),
            "python": self.python,
            "env": self.env,
            "commit": self.commit,
            **({"project": str(self.project)} if self.project is not None else {}),
        }


def parse_env(items: list[str] | None, option: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key or not key.replace("_", "").isalnum():
            raise SideError(f"{option} {item!r}: expected KEY=VALUE, e.g. PYTHONMALLOC=debug")
        out[key] = value
    return out


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=120, check=False)


def repository(start: Path) -> Path | None:
    """The top of the git work tree holding ``start``; None outside git."""
    try:
        done = _git(start, "rev-parse", "--show-toplevel")
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def _is_queuebench(tree: Path) -> bool:
    """A tree of queuebench itself (its worker and strategies), rather than a project of yours."""
    return (tree / "strategies").is_dir() and (tree / "harness" / "worker.py").is_file()


@contextlib.contextmanager
def resolve(
    name: str, spec: str, python: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Iterator[Side]:
    """The side ``spec`` names; a git ref is checked out into a temporary worktree for the
    duration of the ``with`` block and removed afterwards. Raises SideError."""
    from harness.running.launchers.local import ROOT

    cwd = Path.cwd() if cwd is None else cwd
    python = python or sys.executable
    env = dict(env or {})
    if spec.startswith("python:"):
        interpreter = spec.removeprefix("python:")
        if not interpreter:
            raise SideError(f"side {name} {spec!r}: give the interpreter, e.g. python:/usr/bin/python3.12")
        yield Side(name, spec, "python", ROOT, interpreter, env)
        return
    path = (cwd / spec).resolve()
    if path.is_dir():
        if _is_queuebench(path):
            yield Side(name, spec, "tree", path, python, env)
        else:  # a folder of your project: queuebench from where it is installed
            yield Side(name, spec, "project", ROOT, python, env, project=path, repo=repository(path) or path)
        return
    repo = repository(cwd)
    if repo is None:
        raise SideError(f"side {name} {spec!r}: not a directory, not python:PATH, and {cwd} is not in a git repository")
    found = _git(repo, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}")
    if found.returncode != 0:
        raise SideError(
            f"side {name} {spec!r}: not a directory holding strategies/, not python:PATH, nor a git ref of {repo}"
        )
    commit = found.stdout.strip()
    with tempfile.TemporaryDirectory(prefix=f"queuebench-ab-{name}-") as tmp:
        tree = Path(tmp) / "tree"
        added = _git(repo, "worktree", "add", "--detach", str(tree), commit)
        if added.returncode != 0:
            tail = (added.stderr.strip().splitlines() or ["no output"])[-1]
            raise SideError(f"side {name} {spec!r}: git worktree add failed: {tail}")
        try:
            if _is_queuebench(tree):
                yield Side(name, spec, "git", tree, python, env, commit)
            else:  # a commit of your project: its files on the path, queuebench from where it is installed
                yield Side(name, spec, "project-git", ROOT, python, env, commit, project=tree, repo=repo)
        finally:
            _git(repo, "worktree", "remove", "--force", str(tree))
            _git(repo, "worktree", "prune")


def prepare(
    scenarios: list[LoadedScenario],
    opts: suite.Options,
    a: Side | Launcher,
    b: Side | Launcher,
    records: dict[str, Any] | None = None,
) -> suite.Prepared:
    """A run of every planned trial once per side, interleaved (A B, then B A the next repeat); side A's probe
    gives the cpu calibration both sides use (the same work in both) and the fingerprint."""
    given = dict(zip(SIDES, (a, b), strict=True))
    launchers = {n: s.launcher(opts.recalibrate, opts.user) if isinstance(s, Side) else s for n, s in given.items()}
    prepared = suite.prepare_sides(scenarios, opts, launchers)
    prepared.opts.extra = {
        **opts.extra,
        "ab": {
            "order": "AB/BA by repeat",
            "sides": {
                n: (s.record() if isinstance(s, Side) else {"launcher": s.name}) | _probe_facts(prepared.sides[n][1])
                for n, s in zip(SIDES, (a, b), strict=True)
            },
            **(records or {}),
        },
    }
    return prepared


def _probe_facts(probe: Probe) -> dict[str, Any]:
    return {k: getattr(probe, k) for k in ("implementation", "version", "gil_enabled", "effective_parallelism")}


def split(run: Run) -> tuple[Run, Run]:
    """An ab run as two: side A's trials (the baseline) and side B's (the current)."""
    if run.ab is None:
        raise CompareError("not an ab run: its run.json has no 'ab' section")
    # Each half is one side's plain run: its trials lose the side, so pairs match by strategy.
    a, b = (
        dataclasses.replace(run, ab=None, trials=tuple(t.without_side() for t in run.trials if t.side == name))
        for name in SIDES
    )
    return a, b


def judge(run: Run, metric: str, max_regression: float, alpha: float) -> Report:
    """compare()'s verdicts of an ab run, A the baseline and B the current (one session: no drift guard)."""
    a, b = split(run)
    report = compare(a, b, metric, max_regression, alpha, same_session=True)
    sides = (run.ab or {}).get("sides") or {}
    said = {n: s.get("spec") or s.get("launcher") for n, s in sides.items()}
    report.notes.insert(
        0, f"one run, trials interleaved (A B, then B A the next repeat): A = {said.get('A')}, B = {said.get('B')}"
    )
    return report


def _head(tree: Path) -> str | None:
    """The commit a tree's clean checkout is at; None when it is not in git or has changes."""
    try:
        head = _git(tree, "rev-parse", "HEAD")
        dirty = _git(tree, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0 or dirty.returncode != 0 or dirty.stdout.strip():
        return None
    return head.stdout.strip() or None


def same_code(a: Side, b: Side) -> str | None:
    """A warning when both sides run the same code, interpreter and environment (``ab main HEAD``
    with main at HEAD): the run can only measure noise. None when they differ or cannot be told."""
    if a.python != b.python or a.env != b.env:
        return None
    if a.kind != "git" and b.kind != "git" and a.root.resolve() == b.root.resolve():
        return f"both sides are the same tree ({a.root}), interpreter and environment: an A/A run, any change is noise"
    commits = [s.commit if s.kind == "git" else _head(s.root) for s in (a, b)]
    if commits[0] is not None and commits[0] == commits[1]:
        return (
            f"both sides are commit {commits[0][:12]} with the same interpreter and environment: "
            "an A/A run, any change is noise"
        )
    return None
