"""File input and output: atomic writes and checksummed files (private)."""

from ._atomic import (
    TMP_PREFIX as TMP_PREFIX,
    atomic_write as atomic_write,
    host as host,
)
from ._checksum import (
    TRAILER_SIZE as TRAILER_SIZE,
    DamagedFileError as DamagedFileError,
    damaged as damaged,
    read_checked as read_checked,
    seal_appended as seal_appended,
    seal_zip as seal_zip,
)
