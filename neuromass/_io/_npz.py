"""Checksummed `.npz` files: written atomically with `numpy.savez`, read back with
`allow_pickle=False` only after their checksum is verified."""

import io
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ._atomic import atomic_write
from ._checksum import Check, DamagedFileError, read_checked, seal_zip


def npz_bytes(arrays: Mapping[str, np.ndarray], *, compress: bool) -> bytes:
    """The bytes of a sealed (checksummed) `.npz` archive of `arrays`."""
    for name, value in arrays.items():
        if np.asarray(value).dtype.kind == "O":
            raise TypeError(
                f"Cannot save `{name}`: it is an array of Python objects, which would "
                "be pickled; give numeric, boolean or string arrays."
            )
    buf = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buf, **arrays)
    return seal_zip(buf.getvalue())


def write_npz(
    path: str | os.PathLike, arrays: Mapping[str, np.ndarray], *, compress: bool
) -> Path:
    """Write `arrays` to a sealed `.npz` at `path`, atomically."""
    return atomic_write(path, npz_bytes(arrays, compress=compress))


def read_npz(
    path: str | os.PathLike, what: str, fix: str
) -> tuple[dict[str, np.ndarray], Check]:
    """Every array of the `.npz` at `path` (nothing unpickled) and whether its
    checksum was `"verified"` or is `"absent"`.

    Raises `DamagedFileError` (a `ValueError`) naming the file when the checksum
    fails, or when an unverified file cannot be read as a `.npz` archive.
    """
    where = os.fspath(path)
    data, check = read_checked(where, what, fix)
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as e:  # not a zip/npy: junk, or a pickle
        raise DamagedFileError(
            f"Cannot read {where!r} as a {what} ({_kind(e)}): it is not a `.npz` "
            f"archive, or it is damaged. Restore the file from a copy, or {fix}."
        ) from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise DamagedFileError(
            f"{where!r} holds a single array, not a `.npz` archive: it is not a {what}."
        )
    with npz:
        arrays = {}
        for key in npz.files:
            try:
                arrays[key] = npz[key]
            except ValueError as e:
                if "allow_pickle" in str(e):
                    raise DamagedFileError(
                        f"Cannot read `{key}` from {where!r} without unpickling "
                        f"(an array of Python objects): it is not a {what}, which "
                        "holds only numeric and string arrays."
                    ) from None
                raise _unreadable(where, what, fix, key, e) from None
            except Exception as e:
                raise _unreadable(where, what, fix, key, e) from None
    return arrays, check


def _kind(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


def _unreadable(where, what, fix, key, error) -> DamagedFileError:
    return DamagedFileError(
        f"The {what} {where!r} is damaged: reading `{key}` failed ({_kind(error)}). "
        f"Restore the file from a copy, or {fix}."
    )
