"""Where queuebench may write: output paths checked before any work, and an OS error while
writing said in one line.

Every path a user names for output passes here first: ``--out`` of ``run``, ``sweep``,
``stress``, ``ab`` and ``report``, the ``--results`` folder of ``baseline save``, and the file of
``plot -o``, ``export -o``, ``compare``/``ab --markdown`` and ``--json``. Refused, each in one
line (:class:`~harness.errors.UnwritablePath`):

* a path too long for the file system (a name over ``NAME_MAX`` bytes, or the whole, with what
  the command writes below it, over ``PATH_MAX``);
* a place nothing can be made in (``/proc``, a read-only file system, no permission): tried by
  making, and at once removing, a hidden folder in the nearest folder that exists;
* a file where a directory is wanted (or a directory, a device or a pipe where a file is);
* a disk with less free space than the command needs to start.

A disk that fills later is said as the system says it (:func:`reason`); the run store marks
the run ``incomplete`` all the same (:class:`harness.rundir.store.RunWriter`).
Standard library only.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from harness.errors import UnwritablePath

#: What ``run`` writes below ``--out`` at most: ``<UTC time>-<host>[-N]/samples/<trial>.parquet``
#: (a host of 40, a trial's slug of 109 characters) or its temporary twin.
RUN_ROOM = 200
#: What ``baseline save`` writes below ``<results>/baselines``: its staging folder
#: (``.<NAME of 80>.<8>.tmp``), then ``samples/<trial>.parquet`` or its temporary twin.
BASELINE_ROOM = 250
#: Free space any output needs, at the least (a file's first blocks).
NEEDS_ANY = 16 * 1024
#: Free space a run needs to start: its run.json written twice (the file and its atomic
#: replacement) and a trial's samples.
RUN_NEEDS = 64 * 1024


def short(path: object, limit: int = 120) -> str:
    """A path for a one-line message: its two ends when it is long (a 4,000-byte path is no line)."""
    text = str(path)
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 2 :]}"


def reason(exc: OSError) -> str:
    """An OS error's cause in the system's words, without the (maybe huge) file name it carries."""
    return exc.strerror or type(exc).__name__


def _limits(existing: Path) -> tuple[int, int]:
    try:
        return os.pathconf(existing, "PC_NAME_MAX"), os.pathconf(existing, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows), or not answered
        return 255, 4096


def _nearest(folder: Path, flag: str, path: Path) -> Path:
    """The nearest of ``folder`` and its parents that exists; it must be a folder."""
    for candidate in [folder, *folder.parents]:
        try:
            candidate.stat()
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:  # said exactly by _check_length
                continue
            raise UnwritablePath(f"{flag} {short(path)}: {reason(exc)}") from None
        if not os.path.isdir(candidate):
            where = "is not a directory" if candidate == path else f"{short(candidate)} is not a directory"
            raise UnwritablePath(f"{flag} {short(path)}: {where}")
        return candidate
    raise UnwritablePath(f"{flag} {short(path)}: no directory of it exists")  # a relative path always has "."


def _check_length(path: Path, existing: Path, flag: str, room: int) -> None:
    name_max, path_max = _limits(existing)
    full = os.fsencode(os.path.abspath(path))
    longest = max((len(os.fsencode(part)) for part in path.parts), default=0)
    too_long = os.strerror(errno.ENAMETOOLONG)
    if longest > name_max:
        raise UnwritablePath(f"{flag} {short(path)}: {too_long} (a name of {longest} bytes; at most {name_max})")
    if len(full) + room > path_max:
        more = f", {room} more with what is written in it" if room else ""
        raise UnwritablePath(f"{flag} {short(path)}: {too_long} ({len(full):,} bytes{more}; at most {path_max:,})")


def _probe(existing: Path, path: Path, flag: str) -> None:
    """Make and remove a hidden folder in ``existing``: the one sure test that anything can be
    made there (``os.access`` says yes to root on a read-only /proc)."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".queuebench-probe-", dir=existing))
    except OSError as exc:
        where = "there" if existing == path else f"in {short(existing)}"
        raise UnwritablePath(f"{flag} {short(path)}: cannot write {where} ({reason(exc)})") from None


def _check_space(existing: Path, path: Path, flag: str, needs: int) -> None:
    try:
        st = os.statvfs(existing)
    except (OSError, AttributeError):  # no statvfs (Windows): the write will say
        return
    free = st.f_bavail * st.f_frsize
    if free < needs:
        full = os.strerror(errno.ENOSPC)
        raise UnwritablePath(f"{flag} {short(path)}: {full} ({free // 1024:,} KiB free, {needs // 1024:,} KiB needed)")


def writable_dir(path: Path, flag: str, room: int = 0, needs: int = NEEDS_ANY) -> Path:
    """Refuse a folder that cannot be made or written (it may not exist yet: it is made later).

    ``room``: bytes of path the command adds below it; ``needs``: free bytes it needs to start."""
    path = Path(path)
    if not str(path).strip():
        raise UnwritablePath(f"{flag}: empty path; name a directory")
    _check(path, path, flag, room, needs)
    return path


def writable_file(path: Path, flag: str, make_parents: bool = False) -> Path:
    """Refuse a file that cannot be written: a folder there, a parent that is a file or cannot be
    written, too long a path. Its folder must exist unless ``make_parents``."""
    path = Path(path)
    if not str(path).strip() or not path.name:
        raise UnwritablePath(f"{flag} {short(path)!r}: name a file")
    _check(path.parent, path, flag, 0, NEEDS_ANY)
    try:
        mode = path.lstat().st_mode if os.path.lexists(path) else None
        if mode is not None and stat.S_ISDIR(mode):
            raise UnwritablePath(f"{flag} {short(path)}: is a directory; give a file name")
        if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):  # links: the store refuses them
            raise UnwritablePath(f"{flag} {short(path)}: is not a regular file (a device, a pipe or a socket)")
        if not make_parents and not path.parent.is_dir() and not path.parent.is_file():
            raise UnwritablePath(f"{flag} {short(path)}: {short(path.parent)} does not exist")
    except OSError as exc:
        raise UnwritablePath(f"{flag} {short(path)}: {reason(exc)}") from None
    return path


def _check(folder: Path, path: Path, flag: str, room: int, needs: int) -> None:
    """``folder`` (``path`` itself, or the folder of a file ``path``) can be made and written."""
    try:
        existing = _nearest(folder, flag, path)
        _check_length(path, existing, flag, room)
    except UnwritablePath:
        raise
    except OSError as exc:
        raise UnwritablePath(f"{flag} {short(path)}: {reason(exc)}") from None
    _probe(existing, path, flag)
    if needs:
        _check_space(existing, path, flag, needs)


def overwrite(file: Path, offset: int, data: bytes) -> bool:
    """Write ``data`` over bytes ``file`` already has (never through a link): no block is
    allocated, so a full disk takes it. True when done."""
    try:
        fd = os.open(file, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            if os.fstat(fd).st_size < offset + len(data):
                return False
            os.pwrite(fd, data, offset)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        return False
    return True


def say(exc: OSError, what: str) -> UnwritablePath:
    """An OS error met while writing ``what`` (a path), as the one-line error to raise."""
    return UnwritablePath(f"{short(what)}: cannot write: {reason(exc)}")
