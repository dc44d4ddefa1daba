"""One owner for writing a file atomically: a temporary file of this process in
the same directory, flushed to disk, then moved into place with `os.replace`."""

import os
import re
import socket
import tempfile
from pathlib import Path


#: Prefix of every temporary file: `.tmp-<host>-<pid>-...`, so that a sweep store
#: can tell a dead writer's leftovers (this host, no such process) from a live one's.
TMP_PREFIX = ".tmp-"


def host() -> str:
    """This machine's name, reduced to `[A-Za-z0-9_]` (at most 40 characters)."""
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:40] or "host"


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` so that readers see the old file or the whole new one,
    never a part: a killed process leaves the previous file (or none) and at most a
    `.tmp-<host>-<pid>-*` file beside it. Returns `path` as a `Path`."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    prefix = f"{TMP_PREFIX}{host()}-{os.getpid()}-"
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_directory(directory)
    return path


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be
    opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platform dependent
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - e.g. some network file systems
        pass
    finally:
        os.close(fd)
