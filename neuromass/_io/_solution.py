"""Saving and loading a `Solution`: checksummed `.npz` and netCDF-4 (`.nc`) files,
and the `xarray.Dataset` view.

Both formats hold the same items under the same logical keys (`ts`, `num_steps`,
`ys/<variable>`, `y_final/<variable>`, `monitors/<name>/ts`,
`monitors/<name>/data[/<key>]`) and the same attributes; the attribute `layout`
(JSON) lists every item with the name it is stored under, its dtype and its
shape, so that loading reads exactly what was written and checks it. Batched
solutions (from `eqx.filter_vmap(simulate)`) keep their leading batch axes.
"""

import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import atomic_write
from ._checksum import (
    MISSING,
    TRAILER_SIZE,
    DamagedFileError,
    damaged,
    read_checked,
    seal_appended,
)
from ._npz import npz_bytes, read_npz


FORMAT = "neuromass.Solution/2"
_OLD_FORMAT = "neuromass.Solution/1"  # before checksums: read with a warning
_WHAT = "Solution file"
_FIX = "run the simulation again and save it"
_SUFFIXES = (".npz", ".nc")
#: Attributes that `save` writes itself; everything else in a file is the user's.
_STANDARD = (
    "format",
    "time_units",
    "variables",
    "units",
    "model",
    "parameters",
    "stats",
    "num_steps",  # format 1
    "monitors",  # format 1 netCDF
    "layout",
)


# ----------------------------------------------------------------------- helpers
def check_path(path: str | os.PathLike, *, saving: bool) -> tuple[Path, str]:
    """The path (`.npz` appended to a suffix-less one when saving) and its format;
    a `ValueError` naming the path for any other suffix."""
    path = Path(os.fspath(path))
    suffix = path.suffix.lower()
    if suffix == "" and saving:
        return path.with_name(path.name + ".npz"), ".npz"
    if suffix not in _SUFFIXES:
        verb = "save a Solution to" if saving else "load a Solution from"
        raise ValueError(
            f"Cannot {verb} {str(path)!r}: unknown file type "
            f"{suffix or '(no suffix)'!r}. Use a path ending in `.npz` (NumPy, "
            "compressed) or `.nc` (netCDF-4, needs xarray and h5netcdf)."
        )
    return path, suffix


def _model_parameters(model) -> tuple[str | None, dict[str, Any]]:
    """(class name, {parameter: value as nested lists}) of a node or a network."""
    from .._network import Network
    from ..models import AbstractNode

    def tolist(v):
        return np.asarray(v).tolist()

    if isinstance(model, Network):
        params = {f"node.{k}": tolist(v) for k, v in model.node.parameters().items()}
        for f in getattr(model.coupling, "__dataclass_fields__", {}):
            params[f"coupling.{f}"] = tolist(getattr(model.coupling, f))
        params["k"] = tolist(model.k)
        name = f"Network({type(model.node).__name__}, {type(model.coupling).__name__})"
        return name, params
    if isinstance(model, AbstractNode):
        return type(model).__name__, {
            k: tolist(v) for k, v in model.parameters().items()
        }
    raise TypeError(
        "`model` must be the node model or the `nm.Network` that was simulated; got "
        f"{type(model).__name__}."
    )


def _items(sol) -> dict[str, np.ndarray]:
    """Every array of `sol` under its logical key, and the monitors' structure."""
    items = {"ts": np.asarray(sol.ts), "num_steps": np.asarray(sol.num_steps)}
    for v, x in sol.ys.items():
        items[f"ys/{v}"] = np.asarray(x)
    for v, x in sol.y_final.items():
        items[f"y_final/{v}"] = np.asarray(x)
    for name, out in sol.monitors.items():
        if out.ts is not None:
            items[f"monitors/{name}/ts"] = np.asarray(out.ts)
        if isinstance(out.data, dict):
            for k, x in out.data.items():
                items[f"monitors/{name}/data/{k}"] = np.asarray(x)
        else:
            items[f"monitors/{name}/data"] = np.asarray(out.data)
    return items


def _structure(sol) -> dict[str, Any]:
    return {
        "variables": list(sol.ys),
        "final": list(sol.y_final),
        "monitors": {
            name: {
                "ts": out.ts is not None,
                "keys": list(out.data) if isinstance(out.data, dict) else None,
            }
            for name, out in sol.monitors.items()
        },
    }


def metadata(sol, model, units, attrs) -> dict[str, str]:
    """The attributes written with a solution (JSON strings). Without `model`,
    `units` or `attrs`, those of a loaded solution are kept."""
    old = dict(sol.attrs)
    if model is not None:
        name, params = _model_parameters(model)
    else:
        name, params = old.get("model"), old.get("parameters", {})
    units = dict(units) if units is not None else dict(old.get("units") or {})
    user = {k: v for k, v in old.items() if k not in _STANDARD}
    user.update(attrs or {})
    for v in units:
        if not isinstance(units[v], str):
            raise TypeError(
                f"`units` must map variable names to strings such as 'mV'; got "
                f"{units[v]!r} for {v!r}."
            )
    out = {
        "format": FORMAT,
        "time_units": "ms",
        "variables": json.dumps(list(sol.ys)),
        "units": json.dumps(units),
        "model": json.dumps(name),
        "parameters": json.dumps(params),
        "stats": json.dumps(sol.stats, default=str),
    }
    for k, v in user.items():
        try:
            out[f"user.{k}"] = json.dumps(v)
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"`attrs[{k!r}]` cannot be saved: {e}. Attributes must be JSON "
                "values (numbers, strings, lists, dicts, None)."
            ) from None
    return out


def _decode(meta: dict[str, str], where: str) -> dict[str, Any]:
    out = {}
    for k, v in meta.items():
        if k in ("format", "time_units"):
            out[k] = v
        elif k == "layout":
            continue
        else:
            try:
                value = json.loads(v)
            except (TypeError, ValueError):
                why = f"its attribute {k!r} is not JSON"
                raise _not_a_solution(where, why) from None
            out[k[len("user.") :] if k.startswith("user.") else k] = value
    return out


def _not_a_solution(where: str, why: str) -> DamagedFileError:
    return DamagedFileError(
        f"{where!r} is not a saved neuromass Solution ({why}); `Solution.load` "
        "reads the files written by `Solution.save`."
    )


# --------------------------------------------------------------------------- npz
def save(sol, path, *, model=None, units=None, attrs=None) -> Path:
    """See `Solution.save`."""
    path, suffix = check_path(path, saving=True)
    meta = metadata(sol, model, units, attrs)
    if suffix == ".nc":
        return _save_netcdf(sol, path, meta)
    items = _items(sol)
    meta["layout"] = json.dumps(
        {
            **_structure(sol),
            "items": {k: [k, x.dtype.str, list(x.shape)] for k, x in items.items()},
        }
    )
    arrays = dict(items)
    arrays["__attrs__"] = np.array(json.dumps(meta))
    return atomic_write(path, npz_bytes(arrays, compress=True))


def load(cls, path):
    """See `Solution.load`."""
    path, suffix = check_path(path, saving=False)
    where = str(path)
    if suffix == ".nc":
        return _load_netcdf(cls, where)
    arrays, check = read_npz(where, _WHAT, _FIX)
    raw = arrays.pop("__attrs__", None)
    meta = None
    if raw is not None and raw.shape == () and raw.dtype.kind == "U":
        try:
            meta = json.loads(str(raw))
        except ValueError:
            meta = None
    if not isinstance(meta, dict) or meta.get("format") not in (FORMAT, _OLD_FORMAT):
        raise _not_a_solution(where, "no `__attrs__` naming the Solution format")
    if meta["format"] == _OLD_FORMAT:
        warnings.warn(
            f"{where!r} was saved by an older neuromass without a checksum, so it "
            "cannot be verified; save it again to add one.",
            stacklevel=3,
        )
        return _from_old_npz(cls, where, arrays, meta)
    if check != "verified":
        raise damaged(where, _WHAT, _FIX, MISSING)
    layout = _layout(meta, where)
    items = {}
    for key, entry in layout["items"].items():
        name, dtype, shape = _entry(entry, key, where)
        if name not in arrays:
            raise _not_a_solution(where, f"the array {name!r} is missing")
        items[key] = _checked(arrays[name], dtype, shape, key, where)
    return _assemble(cls, items, layout, meta, where)


def _entry(entry, key: str, where: str) -> tuple[str, str, list[int]]:
    """(stored name, dtype, shape) of a layout item, checked."""
    try:
        name, dtype, shape = entry
        np.dtype(dtype)
        if not (isinstance(name, str) and all(isinstance(n, int) for n in shape)):
            raise TypeError
    except (TypeError, ValueError):
        raise _not_a_solution(where, f"its layout of `{key}` is invalid") from None
    return name, dtype, shape


def _layout(meta: dict[str, str], where: str) -> dict[str, Any]:
    why = "its `layout` attribute is missing or invalid"
    try:
        layout = json.loads(meta["layout"])
    except (KeyError, TypeError, ValueError):
        raise _not_a_solution(where, why) from None
    kinds = {"items": dict, "monitors": dict, "variables": list, "final": list}
    if not isinstance(layout, dict) or not all(
        isinstance(layout.get(k), t) for k, t in kinds.items()
    ):
        raise _not_a_solution(where, why)
    return layout


def _checked(x: np.ndarray, dtype: str, shape, key: str, where: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.str != dtype and x.dtype.kind in "iub" and np.dtype(dtype).kind == "b":
        x = x.astype(dtype)  # netCDF stores booleans as integers
    if x.dtype.str != dtype or list(x.shape) != list(shape):
        raise _not_a_solution(
            where,
            f"`{key}` is {x.dtype.str}{list(x.shape)}, its layout says "
            f"{dtype}{list(shape)}",
        )
    return x


def _assemble(cls, items, layout, meta, where):
    import jax.numpy as jnp

    from ..monitors import MonitorOutput

    def get(key):
        if key not in items:
            raise _not_a_solution(where, f"the layout lacks `{key}`")
        return jnp.asarray(items[key])

    ys = {v: get(f"ys/{v}") for v in layout["variables"]}
    y_final = {v: get(f"y_final/{v}") for v in layout["final"]}
    monitors = {}
    for name, spec in layout["monitors"].items():
        try:
            has_ts, keys = bool(spec["ts"]), spec["keys"]
            keys = None if keys is None else list(keys)
        except (KeyError, TypeError):
            why = f"its layout of monitor {name!r} is invalid"
            raise _not_a_solution(where, why) from None
        ts = get(f"monitors/{name}/ts") if has_ts else None
        if keys is None:
            data = get(f"monitors/{name}/data")
        else:
            data = {k: get(f"monitors/{name}/data/{k}") for k in keys}
        monitors[name] = MonitorOutput(ts=ts, data=data)
    return _build(cls, get("ts"), ys, y_final, get("num_steps"), monitors, meta, where)


def _build(cls, ts, ys, y_final, num_steps, monitors, meta, where):
    attrs = _decode(meta, where)
    stats = attrs.get("stats")
    if not isinstance(stats, dict):
        raise _not_a_solution(where, "its `stats` attribute is not a JSON object")
    return cls(
        ts=ts,
        ys=ys,
        y_final=y_final,
        num_steps=num_steps,
        monitors=monitors,
        stats=stats,
        attrs=attrs,
    )


def _from_old_npz(cls, where, files, meta):
    """Format 1 (no checksum, no layout): the items are found by their names."""
    import jax.numpy as jnp

    from ..monitors import MonitorOutput

    try:
        names = json.loads(meta["variables"])
        ys = {v: jnp.asarray(files[f"ys/{v}"]) for v in names}
        y_final = {
            k.split("/", 1)[1]: jnp.asarray(x)
            for k, x in files.items()
            if k.startswith("y_final/")
        }
        monitors: dict[str, Any] = {}
        for k in files:
            if not k.startswith("monitors/"):
                continue
            name = k.split("/")[1]
            if name in monitors:
                continue
            ts = files.get(f"monitors/{name}/ts")
            if f"monitors/{name}/data" in files:
                data = jnp.asarray(files[f"monitors/{name}/data"])
            else:
                prefix = f"monitors/{name}/data/"
                data = {
                    j[len(prefix) :]: jnp.asarray(x)
                    for j, x in files.items()
                    if j.startswith(prefix)
                }
            monitors[name] = MonitorOutput(
                ts=None if ts is None else jnp.asarray(ts), data=data
            )
        ts = jnp.asarray(files["ts"])
        num_steps = jnp.asarray(json.loads(meta["num_steps"]))
    except (KeyError, ValueError, TypeError) as e:
        raise _not_a_solution(where, f"{type(e).__name__}: {e}") from None
    return _build(cls, ts, ys, y_final, num_steps, monitors, meta, where)


# ----------------------------------------------------------------------- netCDF
def _engine() -> str:
    try:
        import xarray  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "`Solution.to_xarray` and `.nc` files need xarray and h5netcdf: "
            "`pip install xarray h5netcdf`."
        ) from None
    try:
        import h5netcdf  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "`.nc` Solution files are netCDF-4 (HDF5) files written and read with "
            "h5netcdf: `pip install h5netcdf`."
        ) from None
    return "h5netcdf"


def _dims(prefix: tuple[str, ...], ndim: int, n_batch: int) -> tuple[str, ...]:
    return (
        tuple(f"batch{i}" for i in range(n_batch))
        + prefix
        + tuple(
            f"{prefix[-1] if prefix else 'value'}_dim{i}"
            for i in range(ndim - n_batch - len(prefix))
        )
    )


def dataset(sol, meta: dict[str, str]):
    """The `xarray.Dataset` of `sol` with the attributes `meta` and a `layout`."""
    _engine()
    import xarray as xr

    units = json.loads(meta["units"])
    items = _items(sol)
    n_batch = items["ts"].ndim - 1
    data_vars: dict[str, Any] = {}
    coords: dict[str, Any] = {}
    where: dict[str, list] = {}
    taken: set[str] = set()

    def put(key, name, dims, x, attrs=None, coord=False):
        if name in taken:
            raise ValueError(
                f"Cannot write the solution as a netCDF dataset: the name {name!r} "
                f"is used twice (by a variable or monitor and by `{key}`). Rename "
                "the variable or monitor, or save to `.npz`."
            )
        taken.add(name)
        (coords if coord else data_vars)[name] = (dims, x, attrs or {})
        where[key] = [name, x.dtype.str, list(x.shape)]

    def put_times(key, name, ts):
        """A time axis: the coordinate `name`; batched times must be equal across
        the batch (stored once, broadcast back when loading)."""
        flat = ts.reshape(-1, ts.shape[-1])
        if not (flat == flat[:1]).all():
            raise ValueError(
                f"Cannot save `{key}` to netCDF: its times differ between the "
                "members of the batch. Save to `.npz`, which keeps them all."
            )
        put(key, name, (name,), flat[0], {"units": "ms"}, coord=True)
        where[key] = [name, ts.dtype.str, list(ts.shape)]

    put_times("ts", "time", items["ts"])
    x = items["num_steps"]
    put("num_steps", "num_steps", _dims((), x.ndim, x.ndim), x)
    for v in sol.ys:
        x = items[f"ys/{v}"]
        unit = {"units": units[v]} if v in units else {}
        put(f"ys/{v}", v, _dims(("time", "region"), x.ndim, n_batch), x, unit)
    for v in sol.y_final:
        x = items[f"y_final/{v}"]
        unit = {"units": units[v]} if v in units else {}
        put(f"y_final/{v}", f"final_{v}", _dims(("region",), x.ndim, n_batch), x, unit)
    for name, out in sol.monitors.items():
        tdim = None
        if out.ts is not None:
            tdim = f"{name}_time"
            put_times(f"monitors/{name}/ts", tdim, items[f"monitors/{name}/ts"])
        keys = list(out.data) if isinstance(out.data, dict) else [None]
        for k in keys:
            key = f"monitors/{name}/data" + ("" if k is None else f"/{k}")
            var = name if k is None else f"{name}__{k}"
            x = items[key]
            if x.dtype.kind == "b":
                x = x.astype(np.int8)
            # axes after the batch: the monitor's time (if any), then `_dim<i>`
            # numbered by position (so `<var>_dim1` follows the time axis)
            tpart = (tdim,) if tdim else ()
            batch = tuple(f"batch{i}" for i in range(n_batch))
            rest = tuple(f"{var}_dim{i}" for i in range(len(tpart), x.ndim - n_batch))
            put(key, var, batch + tpart + rest, x)
            where[key][1] = items[key].dtype.str
    layout = {**_structure(sol), "items": where}
    attrs = {**meta, "layout": json.dumps(layout)}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _save_netcdf(sol, path: Path, meta) -> Path:
    data = bytes(dataset(sol, meta).to_netcdf(engine=_engine()))  # in memory
    return atomic_write(path, seal_appended(data))


def _load_netcdf(cls, where: str):
    engine = _engine()
    data, check = read_checked(where, _WHAT, _FIX)
    if check != "verified":
        raise DamagedFileError(
            f"The Solution file {where!r} does not end with a valid neuromass "
            "checksum, so it is not read (a damaged netCDF file can make the netCDF "
            "readers hang or return altered values): the file is damaged, or it was "
            "not written by `Solution.save` of this version of neuromass. Restore "
            f"the file from a copy, or {_FIX}. If you trust the file, open it with "
            "`xarray.open_dataset(path)`."
        )
    assert engine == "h5netcdf"
    import h5netcdf

    body = io.BytesIO(memoryview(data)[: len(data) - TRAILER_SIZE])
    try:
        with h5netcdf.File(body, "r") as f:
            meta = {k: _text(v) for k, v in f.attrs.items()}
            arrays = {name: np.asarray(var[...]) for name, var in f.variables.items()}
    except Exception as e:  # a verified file that is not what `save` writes
        raise _not_a_solution(where, f"{type(e).__name__}: {e}") from None
    if meta.get("format") != FORMAT:
        raise _not_a_solution(where, "no `format` attribute naming a Solution")
    layout = _layout(meta, where)
    items = {}
    for key, entry in layout["items"].items():
        name, dtype, shape = _entry(entry, key, where)
        if name not in arrays:
            raise _not_a_solution(where, f"the variable {name!r} is missing")
        x = arrays[name]
        if x.shape != tuple(shape) and x.ndim == 1 and len(shape) > 1:
            x = np.broadcast_to(x, tuple(shape)).copy()  # a batch's shared times
        items[key] = _checked(x, dtype, shape, key, where)
    return _assemble(cls, items, layout, meta, where)


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value.item())
    return str(value)
