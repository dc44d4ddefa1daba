"""On-disk store of finished sweep chunks: atomic `.npz` files, checksums, resume."""

import glob
import hashlib
import json
import os
import tempfile
import warnings
from typing import Any

import numpy as np


_FORMAT = "neuromass-sweep-store"
_MANIFEST = "manifest.json"


def _atomic_write_bytes(path: str, data: bytes) -> None:
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
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


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def _describe_difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    for name in sorted(set(old) | set(new)):
        if name in ("format", "version", "created"):
            continue
        if old.get(name) != new.get(name):
            parts.append(f"{name}: stored {old.get(name)!r}, now {new.get(name)!r}")
    return "; ".join(parts)


class ChunkStore:
    """A directory of finished chunks of one sweep (private helper of `sweep`).

    Layout: `manifest.json` (what sweep this is), and per chunk
    `chunk-<first index>-<count>.npz` (the data, written with `np.savez`) and
    `chunk-<first index>-<count>.json` (its SHA-256, written after the data). Both
    are written to a temporary file and moved into place with `os.replace`, so a
    killed process leaves either a complete chunk or nothing. A chunk is trusted only
    if its sidecar exists, the data's SHA-256 matches, and its contents have the
    expected layout; anything else is deleted and recomputed.
    """

    def __init__(self, path: str | os.PathLike, identity: dict[str, Any]):
        self.path = os.fspath(path)
        self.identity = json.loads(json.dumps(identity))
        self.id = hashlib.sha256(
            json.dumps(self.identity, sort_keys=True).encode()
        ).hexdigest()
        os.makedirs(self.path, exist_ok=True)
        manifest = os.path.join(self.path, _MANIFEST)
        if os.path.exists(manifest):
            with open(manifest, encoding="utf-8") as f:
                try:
                    stored = json.load(f)
                except json.JSONDecodeError as e:
                    raise ValueError(
                        f"The sweep store {self.path!r} has an unreadable manifest."
                    ) from e
            if stored.get("format") != _FORMAT:
                raise ValueError(f"{self.path!r} is not a neuromass sweep store.")
            if stored.get("identity") != self.identity:
                diff = _describe_difference(stored.get("identity", {}), self.identity)
                raise ValueError(
                    f"The sweep store {self.path!r} was written by a different sweep "
                    f"({diff}). Use another `store=` directory, delete this one, or, "
                    "if only the function's name changed, pass the stored "
                    "`fingerprint=`."
                )
        else:
            others = [n for n in os.listdir(self.path) if not n.startswith(".tmp-")]
            if others:
                raise ValueError(
                    f"`store={self.path!r}` is a non-empty directory that is not a "
                    "neuromass sweep store; choose an empty or new directory."
                )
            body = {"format": _FORMAT, "version": 1, "identity": self.identity}
            _atomic_write_bytes(manifest, json.dumps(body, indent=2).encode())
        for tmp in glob.glob(os.path.join(self.path, ".tmp-*")):
            os.remove(tmp)

    # ------------------------------------------------------------------ loading
    def _discard(self, stem: str, reason: str) -> None:
        warnings.warn(
            f"Sweep store {self.path!r}: chunk {os.path.basename(stem)} {reason}; "
            "it is discarded and will be recomputed.",
            stacklevel=3,
        )
        for ext in (".json", ".npz"):
            if os.path.exists(stem + ext):
                os.remove(stem + ext)

    def load(self, allowed: np.ndarray) -> list[dict[str, Any]]:
        """Every valid chunk: dicts with `index`, `status`, `outputs` (name -> array).

        `allowed` are the flat indices of the space; chunks naming others are
        refused.
        """
        chunks = []
        allowed_set = set(allowed.tolist())
        for npz in sorted(glob.glob(os.path.join(self.path, "chunk-*.npz"))):
            stem = npz[: -len(".npz")]
            if not os.path.exists(stem + ".json"):
                # Data written but never confirmed (killed in between): untrusted.
                os.remove(npz)
        for side in sorted(glob.glob(os.path.join(self.path, "chunk-*.json"))):
            stem = side[: -len(".json")]
            try:
                with open(side, encoding="utf-8") as f:
                    meta = json.load(f)
                with open(stem + ".npz", "rb") as f:
                    data = f.read()
            except (OSError, json.JSONDecodeError):
                self._discard(stem, "is incomplete")
                continue
            if meta.get("store") != self.id:
                self._discard(stem, "belongs to a different sweep")
                continue
            if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
                self._discard(stem, "failed its SHA-256 check (truncated or modified)")
                continue
            try:
                chunk = self._parse(data, meta)
            except (ValueError, KeyError, OSError) as e:
                self._discard(stem, f"has an unexpected layout ({e})")
                continue
            if not set(chunk["index"].tolist()) <= allowed_set:
                self._discard(stem, "names points outside this space")
                continue
            chunks.append(chunk)
        return chunks

    @staticmethod
    def _parse(data: bytes, meta: dict[str, Any]) -> dict[str, Any]:
        import io

        with np.load(io.BytesIO(data), allow_pickle=False) as f:
            index = f["index"]
            status = f["status"]
            names = meta["outputs"]
            outputs = {name: f[f"o{i}"] for i, name in enumerate(names)}
        n = len(index)
        if index.ndim != 1 or status.shape != (n,):
            raise ValueError("index/status shapes")
        for name, col in outputs.items():
            if col.shape[:1] != (n,):
                raise ValueError(f"output {name!r} has {col.shape[:1]} rows")
        return {"index": index, "status": status, "outputs": outputs}

    # ------------------------------------------------------------------ writing
    def write(
        self, index: np.ndarray, status: np.ndarray, outputs: dict[str, np.ndarray]
    ) -> None:
        """Write one finished chunk atomically: the data first, then its sidecar."""
        stem = os.path.join(self.path, f"chunk-{int(index[0]):010d}-{len(index):07d}")
        arrays = {"index": np.asarray(index, np.int64), "status": status.astype(str)}
        for i, col in enumerate(outputs.values()):
            arrays[f"o{i}"] = col
        data = _npz_bytes(arrays)
        _atomic_write_bytes(stem + ".npz", data)
        meta = {
            "store": self.id,
            "sha256": hashlib.sha256(data).hexdigest(),
            "n": len(index),
            "outputs": list(outputs),
        }
        _atomic_write_bytes(stem + ".json", json.dumps(meta).encode())
