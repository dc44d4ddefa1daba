"""On-disk store of finished sweep chunks: self-checking `.npz` files, a
checksummed manifest, one writer at a time, resume."""

import hashlib
import io
import json
import os
import re
import time
import warnings
from typing import Any

import numpy as np

from .._io import TMP_PREFIX as _TMP, atomic_write, host as _host
from ._identity import differences


_FORMAT = "neuromass-sweep-store"
_VERSION = 3  # 3: the identity describes the model's structure and the function's code
_MANIFEST = "manifest.json"
_LOCK = "lock"
_HASH_CHARS = 32  # of the SHA-256 hex digest, in a chunk's file name
_CHUNK = re.compile(r"chunk-(\d{10})-(\d{7})-([0-9a-f]{32})\.npz")

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def _without_code(identity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in identity.items() if k != "function_code"}


def _manifest_bytes(identity: dict[str, Any]) -> bytes:
    body = {
        "format": _FORMAT,
        "version": _VERSION,
        "identity": identity,
        "sha256": _sha(json.dumps(identity, sort_keys=True).encode()),
    }
    return json.dumps(body, indent=2, sort_keys=True).encode()


def _read_manifest(path: str) -> dict[str, Any]:
    """The verified manifest body, or `ValueError(reason)` if damaged."""
    try:
        with open(path, "rb") as f:
            body = json.loads(f.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"it is not valid JSON ({type(e).__name__})") from e
    if not isinstance(body, dict):
        raise ValueError("it is not a JSON object")
    if body.get("format") != _FORMAT:
        raise ValueError("it does not name the sweep-store format")
    version = body.get("version")
    identity = body.get("identity")
    if version == _VERSION:
        if not isinstance(identity, dict) or body.get("sha256") != _sha(
            json.dumps(identity, sort_keys=True).encode()
        ):
            raise ValueError("its SHA-256 check failed (it was modified)")
    return body


def stored_points(path: str | os.PathLike) -> int:
    """Points held by a store, from its chunk file names (cheap; not verified)."""
    try:
        names = os.listdir(path)
    except OSError:
        return 0
    return sum(int(m[2]) for n in names if (m := _CHUNK.fullmatch(n)))


class ChunkStore:
    """A directory of finished chunks of one sweep (private helper of `sweep`).

    Layout (format 2):

    - `manifest.json`: the sweep's identity and the SHA-256 of that identity;
    - `chunk-<first index>-<count>-<hash>.npz`: one chunk (indices, status, outputs
      and, inside the same file, the output names and the sweep's id). `<hash>` is
      the start of the SHA-256 of the file's bytes: the file name is its checksum,
      so there is no separate file to lose or damage. Written to a temporary file
      of the writing process and moved into place with `os.replace`: a killed
      process leaves a complete chunk or nothing;
    - `lock`: held (`fcntl.flock`) by the one process writing to the store; the
      kernel releases it when that process ends, even by `kill -9`.

    Anything that fails its check is named in a warning, deleted and recomputed;
    a damaged manifest is rewritten when the chunks show that they belong to this
    sweep. Results are keyed by point index: a point stored twice counts once.
    """

    def __init__(self, path: str | os.PathLike, identity: dict[str, Any]):
        self._lock_fd: int | None = None
        self._lock_ino: int | None = None
        self.path = os.fspath(path)
        self.identity = json.loads(json.dumps(identity))
        # The chunks record the sweep's id: the identity without the function's
        # code, which is checked apart, and not when a `fingerprint=` vouches for
        # the function (then the code is None).
        self.id = _sha(
            json.dumps(_without_code(self.identity), sort_keys=True).encode()
        )
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ValueError(
                f"`store={self.path!r}` is a file, not a directory. A sweep store is "
                "a directory (created if missing): give a new directory, or the one "
                "of an earlier run of this sweep to resume it."
            )
        os.makedirs(self.path, exist_ok=True)
        manifest = os.path.join(self.path, _MANIFEST)
        if not os.path.exists(manifest):
            names = os.listdir(self.path)
            foreign = [
                n
                for n in names
                if not (n == _LOCK or n.startswith(_TMP) or _CHUNK.fullmatch(n))
            ]
            if foreign and not any(_CHUNK.fullmatch(n) for n in names):
                raise ValueError(
                    f"`store={self.path!r}` is a non-empty directory that is not a "
                    "neuromass sweep store; choose an empty or new directory."
                )
        self._acquire_lock()
        try:
            self._check_manifest(manifest)
            self._remove_stale_temporaries()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ locking
    def _acquire_lock(self) -> None:
        lock = os.path.join(self.path, _LOCK)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:  # e.g. a read-only store: it can still be read
            self._unlocked(f"could not open {lock!r} ({e})")
            return
        if fcntl is None:  # pragma: no cover - Windows
            os.close(fd)
            self._unlocked("file locks are not available on this platform")
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.read(fd, 200).decode("utf-8", "replace").strip()
            finally:
                os.close(fd)
            raise ValueError(
                f"The sweep store {self.path!r} is in use by another process "
                f"({holder or 'unknown'}). Wait for it to finish (then run again to "
                "resume from its results), or give this sweep another `store=` "
                "directory."
            ) from None
        except OSError as e:  # e.g. a file system without locks
            os.close(fd)
            self._unlocked(f"could not lock {lock!r} ({e})")
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"pid {os.getpid()} on {_host()} since {stamp}\n".encode())
        self._lock_fd = fd
        self._lock_ino = os.fstat(fd).st_ino

    def _unlocked(self, why: str) -> None:
        warnings.warn(
            f"Sweep store {self.path!r}: {why}; make sure no other process writes "
            "to this store at the same time.",
            stacklevel=5,
        )

    def _check_lock(self) -> None:
        """Refuse to write if `lock` was deleted or replaced while we held it
        (another process could then hold a lock of its own)."""
        if self._lock_fd is None:  # no lock could be taken (warned)
            return
        try:
            ino = os.stat(os.path.join(self.path, _LOCK)).st_ino
        except FileNotFoundError:
            ino = None
        if ino != self._lock_ino:
            raise RuntimeError(
                f"The lock file of the sweep store {self.path!r} was removed or "
                "replaced while this sweep was writing, so another process may be "
                "writing too. Stop the other sweeps on this store and run again: it "
                "resumes from the chunks that passed their checks."
            )

    def close(self) -> None:
        """Release the lock (also released if the process dies)."""
        fd = getattr(self, "_lock_fd", None)
        if fd is not None:
            self._lock_fd = None
            os.close(fd)  # releases the flock

    def __del__(self):
        self.close()

    def _remove_stale_temporaries(self) -> None:
        """Remove temporary files of dead writers on this host (never those of a
        live process, nor of another host)."""
        prefix = f"{_TMP}{_host()}-"
        for name in os.listdir(self.path):
            if not name.startswith(prefix):
                continue
            pid = name[len(prefix) :].split("-", 1)[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                try:
                    os.remove(os.path.join(self.path, name))
                except FileNotFoundError:
                    pass

    # ----------------------------------------------------------------- manifest
    def _check_manifest(self, manifest: str) -> None:
        try:
            body = None if not os.path.exists(manifest) else _read_manifest(manifest)
        except ValueError as e:
            self._repair_manifest(manifest, f"is damaged: {e}")
            return
        if body is None:
            if any(_CHUNK.fullmatch(n) for n in os.listdir(self.path)):
                self._repair_manifest(manifest, "is missing", missing=True)
            else:
                atomic_write(manifest, _manifest_bytes(self.identity))
            return
        if body["version"] != _VERSION:
            raise ValueError(
                f"The sweep store {self.path!r} was written by another version of "
                f"neuromass (store format {body['version']!r}; this one reads "
                f"{_VERSION}). Delete it to recompute, or give this sweep another "
                "`store=` directory."
            )
        stored = body["identity"]
        if _without_code(stored) != _without_code(self.identity):
            diff = differences(_without_code(stored), _without_code(self.identity))
            raise ValueError(
                f"The sweep store {self.path!r} was written by a different sweep: "
                f"{diff}. Its results are not those of this sweep, so they are not "
                "mixed. Use another `store=` directory or delete this one; if only "
                "the function's name or code changed and not what it computes, pass "
                "the same `fingerprint=` string to both runs."
            )
        code, stored_code = (
            self.identity.get("function_code"),
            stored.get("function_code"),
        )
        if code is not None and stored_code is not None and code != stored_code:
            diff = differences({"function_code": stored_code}, {"function_code": code})
            raise ValueError(
                f"The sweep store {self.path!r} was written by a different sweep: "
                f"{diff}. Its results may not be those of this function, so they are "
                "not mixed. Use another `store=` directory or delete this one; if "
                "what the function computes did not change (e.g. only a comment or "
                "an unrelated helper), pass `fingerprint=` with a name for it, then "
                "the code is not compared (and change that name whenever the "
                "function's results change)."
            )

    def _repair_manifest(self, manifest: str, problem: str, missing=False) -> None:
        """Rewrite a damaged or missing manifest if every verified chunk belongs to
        this sweep; refuse otherwise."""
        ids: dict[str, int] = {}
        for name in os.listdir(self.path):
            if _CHUNK.fullmatch(name):
                try:
                    store_id = self._read(os.path.join(self.path, name))[1]
                except ValueError:
                    continue  # damaged itself: dealt with when loading
                ids[store_id] = ids.get(store_id, 0) + 1
        others = sum(n for i, n in ids.items() if i != self.id)
        moved = ""
        if missing:
            candidates = sorted(
                n for n in os.listdir(self.path) if "manifest" in n.lower()
            )
            if candidates:
                moved = (
                    f" (it may have been renamed to {', '.join(map(repr, candidates))})"
                )
        if others:
            restore = (
                f"If you renamed or moved {_MANIFEST!r}{moved}, put it back as "
                f"{manifest!r} and run again (the message then names what differs "
                "between the sweeps); otherwise give"
                if missing
                else "Give"
            )
            raise ValueError(
                f"The manifest {manifest!r} of the sweep store {self.path!r} "
                f"{problem}{moved}, and the store holds {others} valid chunk(s) of a "
                f"different sweep (another model, function, space, key or `lanes`). "
                f"{restore} this sweep another `store=` directory, or delete this "
                "one. Nothing was changed."
            )
        warnings.warn(
            f"Sweep store {self.path!r}: the manifest {manifest!r} {problem}{moved}; "
            f"the {ids.get(self.id, 0)} valid chunk(s) in the store belong to this "
            "sweep (each records the sweep's fingerprint), so the manifest is "
            "rewritten and they are kept.",
            stacklevel=4,
        )
        atomic_write(manifest, _manifest_bytes(self.identity))

    # ------------------------------------------------------------------ loading
    def _read(self, path: str) -> tuple[dict[str, Any], str]:
        """A verified chunk and the id of its sweep; `ValueError(reason)` if not."""
        m = _CHUNK.fullmatch(os.path.basename(path))
        assert m is not None
        with open(path, "rb") as f:
            data = f.read()
        if _sha(data)[:_HASH_CHARS] != m[3]:
            raise ValueError("failed its SHA-256 check (truncated or modified)")
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as f:
                meta = json.loads(str(f["meta"][()]))
                index = f["index"]
                status = f["status"]
                outputs = {n: f[f"o{i}"] for i, n in enumerate(meta["outputs"])}
        except Exception as e:  # any layout problem: untrusted
            raise ValueError(f"has an unexpected layout ({type(e).__name__})") from e
        n = len(index)
        if index.ndim != 1 or status.shape != (n,) or n == 0:
            raise ValueError("has an unexpected layout (index/status shapes)")
        if n != int(m[2]) or int(index[0]) != int(m[1]):
            raise ValueError("does not hold the points its name says (renamed)")
        for name, col in outputs.items():
            if col.shape[:1] != (n,):
                raise ValueError(f"has an unexpected layout (output {name!r})")
        chunk = {"index": index, "status": status, "outputs": outputs, "path": path}
        return chunk, str(meta.get("store"))

    def _discard(self, path: str, reason: str) -> None:
        warnings.warn(
            f"Sweep store {self.path!r}: chunk file {path!r} {reason}; it is "
            "deleted and its points will be recomputed.",
            stacklevel=3,
        )
        try:
            os.remove(path)
        except FileNotFoundError:
            pass

    def load(self, allowed: np.ndarray) -> list[dict[str, Any]]:
        """Every valid chunk: dicts with `index`, `status`, `outputs` (name ->
        array) and `path`, each point once.

        `allowed` are the flat indices of the space; chunks naming others are
        discarded. A point held by two chunks (e.g. written by two runs with
        different batch sizes) is taken from the first by file name only.
        """
        chunks = []
        allowed_set = set(allowed.tolist())
        seen: dict[int, tuple[str, dict[str, np.ndarray], int]] = {}
        for name in sorted(os.listdir(self.path)):
            if not _CHUNK.fullmatch(name):
                continue
            path = os.path.join(self.path, name)
            try:
                chunk, store_id = self._read(path)
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as e:
                self._discard(path, str(e))
                continue
            if store_id != self.id:
                self._discard(path, "belongs to a different sweep")
                continue
            index = chunk["index"].tolist()
            if not set(index) <= allowed_set:
                self._discard(path, "names points outside this space")
                continue
            keep = np.array([i not in seen for i in index], dtype=bool)
            for row in np.flatnonzero(~keep):
                first, outputs, r = seen[index[row]]
                if any(
                    outputs[k][r].tobytes() != chunk["outputs"][k][row].tobytes()
                    for k in outputs
                    if k in chunk["outputs"]
                ):
                    warnings.warn(
                        f"Sweep store {self.path!r}: point {index[row]} is stored "
                        f"twice with different values ({first!r} and {path!r}); the "
                        "first is used.",
                        stacklevel=2,
                    )
            for row in np.flatnonzero(keep):
                seen[index[row]] = (path, chunk["outputs"], int(row))
            if not keep.any():
                continue
            if not keep.all():
                chunk["index"] = chunk["index"][keep]
                chunk["status"] = chunk["status"][keep]
                chunk["outputs"] = {k: v[keep] for k, v in chunk["outputs"].items()}
            chunks.append(chunk)
        return chunks

    # ------------------------------------------------------------------ writing
    def write(
        self, index: np.ndarray, status: np.ndarray, outputs: dict[str, np.ndarray]
    ) -> None:
        """Write one finished chunk atomically, its checksum in its name."""
        self._check_lock()
        meta = {"store": self.id, "outputs": list(outputs)}
        arrays = {
            "index": np.asarray(index, np.int64),
            "status": status.astype(str),
            "meta": np.array(json.dumps(meta)),
        }
        for i, col in enumerate(outputs.values()):
            arrays[f"o{i}"] = col
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        data = buf.getvalue()
        name = f"chunk-{int(index[0]):010d}-{len(index):07d}-"
        name += _sha(data)[:_HASH_CHARS] + ".npz"
        atomic_write(os.path.join(self.path, name), data)
