"""Files that cannot lie: a SHA-256 of a file's bytes, stored in the file.

Every file neuromass writes for itself to read back carries, in its last
`TRAILER_SIZE` bytes, the trailer `neuromass-sha256:<64 hex digits>`: the SHA-256
of every byte before the trailer. The check reads the bytes and hashes them
*before* anything parses them, so a damaged file is refused with an error naming
it; NumPy, zipfile, h5py and xarray never see damaged bytes (so they cannot hang
on them, or return altered values).

- `.npz` (a zip archive): the trailer is the archive's comment, which zip readers
  (`numpy.load`, `unzip`) read as part of the format; the hashed bytes include the
  end record with the comment's length.
- `.nc` (netCDF-4, an HDF5 file): the trailer follows the HDF5 data. HDF5 ignores
  bytes after its end-of-file address, so `xarray.open_dataset(path)`, h5py and
  `ncdump` read the file as usual.

Any single damaged byte is caught: one in the hashed bytes changes the digest;
one in the trailer leaves the hashed bytes intact, but the trailer no longer
reads as a checksum, and a file whose own metadata says it was written with a
checksum (every file of the current formats) is then refused as damaged too.
"""

import hashlib
import os
from pathlib import Path
from typing import Literal


TRAILER_PREFIX = b"neuromass-sha256:"
TRAILER_SIZE = len(TRAILER_PREFIX) + 64
#: The detail of `damaged` for a file whose format requires a checksum that is absent.
MISSING = "the checksum at its end (the archive's comment) is missing or damaged"
_ZIP_END = b"PK\x05\x06"  # end of central directory record (22 bytes + comment)


class DamagedFileError(ValueError):
    """A file neuromass wrote does not hold what was written (truncated, modified
    or corrupted), or a file is not the kind expected. The message names the file
    and what to do."""


def _digest(data: bytes | memoryview) -> bytes:
    return hashlib.sha256(data).hexdigest().encode()


def seal_zip(data: bytes) -> bytes:
    """A zip archive (e.g. from `numpy.savez`, without a comment) with the
    checksum trailer as its comment."""
    if data[-22:-18] != _ZIP_END or data[-2:] != b"\x00\x00":
        raise AssertionError("expected a zip archive without a comment")
    body = data[:-2] + TRAILER_SIZE.to_bytes(2, "little")
    return body + TRAILER_PREFIX + _digest(body)


def seal_appended(data: bytes) -> bytes:
    """`data` (e.g. an HDF5 file) followed by the checksum trailer."""
    return data + TRAILER_PREFIX + _digest(data)


Check = Literal["verified", "absent"]


def read_checked(path: str | os.PathLike, what: str, fix: str) -> tuple[bytes, Check]:
    """The bytes of `path` and whether its checksum trailer was `"verified"` or is
    `"absent"` (a file written without one, or whose trailer itself is damaged:
    the caller decides from the file's own format version).

    Raises `DamagedFileError` naming the file when the trailer is present and the
    digest differs, `FileNotFoundError` when there is no file, and
    `DamagedFileError` for a directory or an unreadable file. `what` names the
    kind of file for messages ("Solution file"); `fix` says how to get a good one.
    """
    where = os.fspath(path)
    try:
        data = Path(where).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"No {what} at {where!r}.") from None
    except IsADirectoryError:
        raise DamagedFileError(
            f"{where!r} is a directory, not a {what}; give the path of the file."
        ) from None
    except OSError as e:
        raise DamagedFileError(f"Cannot read the {what} {where!r}: {e}.") from e
    if len(data) < TRAILER_SIZE or data[-TRAILER_SIZE:-64] != TRAILER_PREFIX:
        return data, "absent"
    if _digest(memoryview(data)[:-TRAILER_SIZE]) != data[-64:]:
        raise damaged(where, what, fix, "its SHA-256 checksum does not match")
    return data, "verified"


def damaged(where: str, what: str, fix: str, detail: str) -> DamagedFileError:
    """The error for a damaged file: names it, says what is wrong and the fix."""
    return DamagedFileError(
        f"The {what} {where!r} is damaged: {detail}, so it was truncated, modified "
        f"or corrupted after it was written. Restore the file from a copy, or "
        f"{fix}."
    )
