"""Loading connectomes: the bundled default, tvb-data, TVB-format zips and `.npz`.

Nothing here executes code from a file: `.npz` files are read with
`allow_pickle=False`, zip archives are read in memory (never extracted), and
every archive member name is checked before anything is read.
"""

import bz2
import importlib.metadata
import importlib.resources
import io
import os
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from ._connectome import NPZ_FORMAT_VERSION, Connectome


_DEFAULT_NAME = "default"
_DEFAULT_RESOURCE = "default_76.npz"
_TVB_FILES = {
    "tvb66": "connectivity_66.zip",
    "tvb68": "connectivity_68.zip",
    "tvb76": "connectivity_76.zip",
    "tvb96": "connectivity_96.zip",
    "tvb192": "connectivity_192.zip",
}
# Refuse archive members (or decompressed streams) larger than this: a 2000-region
# matrix written as text is about 100 MB, so honest files stay far below it.
_MAX_MEMBER_BYTES = 512 * 2**20
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


def available_connectomes() -> list[str]:
    """The names accepted by `neuromass.datasets.load_connectome`.

    **Returns:**

    `["default", "tvb66", "tvb68", "tvb76", "tvb96", "tvb192"]`. The `tvb*`
    names need the optional `tvb-data` package (`pip install "neuromass[data]"`).

    !!! example

        ```python
        import neuromass as nm

        nm.datasets.available_connectomes()      # ['default', 'tvb66', ...]
        ```
    """
    return [_DEFAULT_NAME, *_TVB_FILES]


def _valid_names_hint() -> str:
    return (
        f"Valid names are {', '.join(repr(n) for n in available_connectomes())}; "
        "or pass a path to a TVB-format `.zip` or to a `.npz` written by "
        "`Connectome.save`."
    )


def load_connectome(name_or_path: str | os.PathLike | None = None) -> Connectome:
    """Load a connectome by name or from a file.

    **Arguments:**

    - `name_or_path`: one of

        - `None` or `"default"`: the bundled 76-region synthetic connectome,
            generated with the exponential distance rule by
            `neuromass.datasets.generate_edr_connectome`
            (Apache-2.0, works offline). Its weights have maximum 1 and a zero
            diagonal.
        - `"tvb66"`, `"tvb68"`, `"tvb76"`, `"tvb96"`, `"tvb192"`: the
            connectivity zips of the `tvb-data` package (optional extra,
            `pip install "neuromass[data]"`; GPL-3.0). Weights are returned as
            stored in the files (raw, including any diagonal); use
            `neuromass.datasets.Connectome.normalised`
            and
            `neuromass.datasets.Connectome.with_zero_diagonal`
            to prepare them.
        - a path to a TVB-format `.zip`: members `weights.txt`,
            `tract_lengths.txt` (both `N x N` whitespace-separated, `[to, from]`)
            and optionally `centres.txt` (`label x y z` per line, extra columns
            ignored), each possibly bz2-compressed as `<name>.txt.bz2` and
            possibly inside a folder of the archive.
        - a path to a `.npz` written by
            `neuromass.datasets.Connectome.save`.

    **Returns:**

    A validated `neuromass.datasets.Connectome`.

    **Raises:**

    - `ValueError` for an unknown name (the message lists the valid ones), an
        unsafe archive member (absolute path or `..`), or invalid content.
    - `FileNotFoundError` for a path that does not exist.
    - `ImportError` for a `tvb*` name when `tvb-data` is not installed.

    !!! example

        ```python
        import neuromass as nm

        conn = nm.datasets.load_connectome()     # 76 regions, offline
        conn.n_regions, conn.labels[:2]          # (76, ('L01', 'L02'))
        tvb = nm.datasets.load_connectome("tvb76").normalised("max")  # needs tvb-data
        ```
    """
    if name_or_path is None:
        return _load_default()
    if (
        isinstance(name_or_path, str)
        and name_or_path.lower() in available_connectomes()
    ):
        key = name_or_path.lower()
        if key == _DEFAULT_NAME:
            return _load_default()
        return _load_tvb_data(key)
    if not isinstance(name_or_path, str | os.PathLike):
        raise TypeError(
            "`name_or_path` must be None, a connectome name or a path; got "
            f"{type(name_or_path).__name__}. {_valid_names_hint()}"
        )

    path = Path(name_or_path)
    looks_like_path = path.suffix != "" or len(path.parts) > 1
    if not path.exists():
        if isinstance(name_or_path, str) and not looks_like_path:
            raise ValueError(
                f"Unknown connectome name {name_or_path!r}. {_valid_names_hint()}"
            )
        raise FileNotFoundError(f"No connectome file at {str(path)!r}.")
    if path.is_dir():
        raise ValueError(
            f"{str(path)!r} is a directory; pass a TVB-format `.zip` archive or a "
            "`.npz` file instead."
        )
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return read_tvb_zip(path, name=path.stem, source=str(path))
    if suffix == ".npz":
        return read_npz(path, name=path.stem, source=str(path))
    raise ValueError(
        f"Cannot load {str(path)!r}: unsupported file type {suffix or '(none)'!r}. "
        "Expected a TVB-format `.zip` or a `.npz` written by `Connectome.save`."
    )


def _load_default() -> Connectome:
    resource = importlib.resources.files(__package__) / "data" / _DEFAULT_RESOURCE
    with importlib.resources.as_file(resource) as path:
        return read_npz(path)


def _load_tvb_data(key: str) -> Connectome:
    try:
        import tvb_data.connectivity  # noqa: F401
    except ImportError as e:
        raise ImportError(
            f"Loading the connectome {key!r} needs the optional `tvb-data` package. "
            'Install it with `pip install "neuromass[data]"` (or `pip install '
            "tvb-data`), or use `load_connectome()` for the bundled default."
        ) from e
    try:
        version = importlib.metadata.version("tvb-data")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown version"
    filename = _TVB_FILES[key]
    resource = importlib.resources.files("tvb_data.connectivity") / filename
    with resource.open("rb") as f:
        return read_tvb_zip(
            f,
            name=key,
            source=f"tvb-data {version}, connectivity/{filename} (GPL-3.0-or-later)",
        )


# ---------------------------------------------------------------------------
# .npz


def read_npz(
    path: str | os.PathLike, *, name: str | None = None, source: str | None = None
) -> Connectome:
    """Read a `.npz` in the `Connectome.save` layout, never unpickling objects.

    A file written by `Connectome.save` (format version 2) is verified against the
    SHA-256 checksum it ends with before anything is read; older files and
    hand-made ones (no `format_version`) have none and are read as they are, every
    array of them (a damaged archive fails its zip checks). The stored `name` and
    `source` are kept; the arguments are fallbacks for files that do not record
    them.
    """
    from .._io._checksum import MISSING, damaged
    from .._io._npz import read_npz as read_checked_npz

    where = str(path)
    files, check = read_checked_npz(where, _WHAT, _FIX)
    keys = set(files)
    missing = {"weights", "lengths"} - keys
    if missing:
        raise ValueError(
            f"{where!r} lacks the array(s) {sorted(missing)}; a connectome `.npz` "
            "holds at least `weights` and `lengths` (see `Connectome.save`)."
        )
    version = 1
    if "format_version" in keys:
        raw = files["format_version"]
        if raw.shape != () or raw.dtype.kind not in "iu":
            raise ValueError(
                f"`format_version` in {where!r} must be a single integer; got "
                f"dtype {raw.dtype} and shape {raw.shape}."
            )
        version = int(raw)
        if version > NPZ_FORMAT_VERSION:
            raise ValueError(
                f"{where!r} uses connectome file format {version}, newer "
                f"than this neuromass understands ({NPZ_FORMAT_VERSION}); "
                "upgrade neuromass."
            )
    if version >= 2 and check != "verified":
        raise damaged(where, _WHAT, _FIX, MISSING)
    arrays = {
        key: files[key]
        for key in ("weights", "lengths", "centres", "labels")
        if key in keys
    }
    for key in ("weights", "lengths", "centres"):
        if key in arrays and arrays[key].dtype.kind not in "biuf":
            raise ValueError(
                f"`{key}` in {where!r} must be numeric; got dtype {arrays[key].dtype}."
            )
    labels = None
    if "labels" in arrays:
        labels = _string_list(arrays["labels"], "labels", where)
    if "name" in keys:
        name = _string_scalar(files["name"], "name", where)
    if "source" in keys:
        source = _string_scalar(files["source"], "source", where)
    try:
        return Connectome(
            arrays["weights"],
            arrays["lengths"],
            labels=labels,
            centres=arrays.get("centres"),
            name=name,
            source=source,
        )
    except ValueError as e:
        raise ValueError(f"Invalid connectome in {where!r}: {e}") from e


_WHAT = "connectome file"
_FIX = "write it again with `Connectome.save`"


def _string_list(value: np.ndarray, key: str, where: str) -> list[str]:
    if value.ndim != 1 or value.dtype.kind not in "US":
        raise ValueError(
            f"`{key}` in {where!r} must be a 1-D string array; got dtype "
            f"{value.dtype} and shape {value.shape}."
        )
    if value.dtype.kind == "S":
        return [item.decode("utf-8") for item in value.tolist()]
    return [str(item) for item in value.tolist()]


def _string_scalar(value: np.ndarray, key: str, where: str) -> str:
    if value.shape != () or value.dtype.kind not in "US":
        raise ValueError(
            f"`{key}` in {where!r} must be a single string; got dtype {value.dtype} "
            f"and shape {value.shape}."
        )
    item = value.item()
    return item.decode("utf-8") if isinstance(item, bytes) else str(item)


# ---------------------------------------------------------------------------
# TVB-format zip


def _check_member_name(member: str, where: str) -> None:
    """Refuse member names that would escape an extraction directory."""
    posix = member.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    if posix.startswith("/") or _WINDOWS_DRIVE.match(posix) or ".." in parts:
        raise ValueError(
            f"Refusing to read {where!r}: archive member {member!r} has an absolute "
            "path or a '..' component. A connectome archive should only contain "
            "relative paths such as 'weights.txt' or 'folder/weights.txt'."
        )


def _decompress_bz2(data: bytes, member: str, where: str) -> bytes:
    chunks = []
    total = 0
    while data:
        decompressor = bz2.BZ2Decompressor()
        try:
            out = decompressor.decompress(
                data, max_length=_MAX_MEMBER_BYTES + 1 - total
            )
        except OSError as e:
            raise ValueError(
                f"{member!r} in {where!r} is not valid bz2 data: {e}"
            ) from e
        total += len(out)
        chunks.append(out)
        if total > _MAX_MEMBER_BYTES:
            raise ValueError(
                f"Refusing to decompress {member!r} in {where!r}: it expands beyond "
                f"{_MAX_MEMBER_BYTES // 2**20} MiB."
            )
        if not decompressor.eof:
            raise ValueError(f"{member!r} in {where!r} is truncated bz2 data.")
        data = decompressor.unused_data
    return b"".join(chunks)


def _read_member_text(
    archive: zipfile.ZipFile,
    members: dict[str, list[zipfile.ZipInfo]],
    stem: str,
    where: str,
    required: bool,
) -> tuple[str, str] | None:
    """Find `<stem>.txt` or `<stem>.txt.bz2` (in any folder) and return its text."""
    candidates = members.get(f"{stem}.txt", []) + members.get(f"{stem}.txt.bz2", [])
    if not candidates:
        if required:
            raise ValueError(
                f"{where!r} has no `{stem}.txt` (or `{stem}.txt.bz2`). A TVB-format "
                "zip holds `weights.txt`, `tract_lengths.txt` and `centres.txt`."
            )
        return None
    if len(candidates) > 1:
        raise ValueError(
            f"{where!r} holds several candidates for `{stem}.txt`: "
            f"{sorted(info.filename for info in candidates)}; keep exactly one."
        )
    info = candidates[0]
    if info.file_size > _MAX_MEMBER_BYTES:
        raise ValueError(
            f"Refusing to read {info.filename!r} in {where!r}: it is "
            f"{info.file_size} bytes, more than {_MAX_MEMBER_BYTES // 2**20} MiB."
        )
    try:
        data = archive.read(info)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise ValueError(
            f"The archive {where!r} is damaged: reading {info.filename!r} failed "
            f"({type(e).__name__}: {e}). Restore it from a copy."
        ) from e
    if info.filename.endswith(".bz2"):
        data = _decompress_bz2(data, info.filename, where)
    try:
        return info.filename, data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{info.filename!r} in {where!r} is not UTF-8 text.") from e


def _require(member: tuple[str, str] | None) -> tuple[str, str]:
    # `_read_member_text(..., required=True)` raises instead of returning None.
    if member is None:
        raise RuntimeError("a required archive member was not returned")
    return member


def _parse_matrix(member: str, text: str, where: str) -> np.ndarray:
    try:
        matrix = np.loadtxt(io.StringIO(text), dtype=np.float64, ndmin=2)
    except ValueError as e:
        raise ValueError(
            f"Cannot parse {member!r} in {where!r} as a numeric matrix: {e}"
        ) from e
    return matrix


def _parse_centres(member: str, text: str, where: str) -> tuple[list[str], np.ndarray]:
    labels = []
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 4:
            raise ValueError(
                f"Line {number} of {member!r} in {where!r} should read "
                f"'label x y z'; got {line.strip()!r}."
            )
        try:
            rows.append([float(v) for v in fields[1:4]])
        except ValueError as e:
            raise ValueError(
                f"Line {number} of {member!r} in {where!r} has non-numeric "
                f"coordinates: {line.strip()!r}."
            ) from e
        labels.append(fields[0])
    return labels, np.array(rows, dtype=np.float64).reshape(-1, 3)


def read_tvb_zip(
    file: str | os.PathLike | io.IOBase, *, name: str | None, source: str
) -> Connectome:
    """Read a TVB-format connectivity zip from a path or a binary file object."""
    where = source
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile as e:
        raise ValueError(f"{where!r} is not a valid zip archive: {e}") from e
    with archive:
        members: dict[str, list[zipfile.ZipInfo]] = {}
        for info in archive.infolist():
            _check_member_name(info.filename, where)
            if info.is_dir():
                continue
            members.setdefault(PurePosixPath(info.filename).name, []).append(info)
        weights_member = _require(
            _read_member_text(archive, members, "weights", where, True)
        )
        lengths_member = _require(
            _read_member_text(archive, members, "tract_lengths", where, True)
        )
        centres_member = _read_member_text(archive, members, "centres", where, False)
    weights = _parse_matrix(*weights_member, where)
    lengths = _parse_matrix(*lengths_member, where)
    labels = centres = None
    if centres_member is not None:
        labels, centres = _parse_centres(*centres_member, where)
    try:
        return Connectome(
            weights, lengths, labels=labels, centres=centres, name=name, source=source
        )
    except ValueError as e:
        raise ValueError(f"Invalid connectome in {where!r}: {e}") from e
