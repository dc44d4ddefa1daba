"""`Solution`: the result of a simulation, and saving it to a file."""

import json
import os
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ._custom_types import State, Trajectory


_FORMAT = "neuromass.Solution/1"


def _model_parameters(model) -> tuple[str | None, dict[str, Any]]:
    """(class name, {parameter: value as nested lists}) of a node or a network."""
    if model is None:
        return None, {}
    from ._network import Network
    from .models import AbstractNode

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


def _dims(prefix: tuple[str, ...], ndim: int) -> tuple[str, ...]:
    """Dimension names: leading batch axes, then `prefix` (e.g. time, region)."""
    n_batch = ndim - len(prefix)
    if n_batch < 0:
        raise ValueError(f"array of rank {ndim} has fewer axes than {prefix}")
    return tuple(f"batch{i}" for i in range(n_batch)) + prefix


class Solution(eqx.Module):
    """The result of `neuromass.simulate`.

    **Attributes:**

    - `ts`: saved times in ms, shape `(T,)`.
    - `ys`: the saved trajectory, a dict `{variable: array of shape (T, N)}`; with batch
      axes (ensembles, sweeps through `eqx.filter_vmap`) these lead: `(B, T, N)`.
    - `y_final`: the state at the last step, `{variable: (N,)}` (to continue a run).
    - `num_steps`: the number of solver steps taken.
    - `monitors`: `{name: MonitorOutput(ts, data)}` for each monitor given to
      `simulate` (`ts` is None for streaming monitors).
    - `stats`: a dict of static facts: `dt`, `solver`, `interpolation` (None without
      delays), `max_delay` (ms) and `saved_every` (ms).

    `sol["x"]` is `sol.ys["x"]`; `sol["bold"]` is the data of the monitor named
    `"bold"` when no state variable has that name.

    Save it with `neuromass.Solution.save` (NumPy `.npz`, or netCDF through
    xarray), read it back with `neuromass.Solution.load`, or get an
    `xarray.Dataset` with `neuromass.Solution.to_xarray`.
    """

    ts: Float[Array, " times"]
    ys: Trajectory
    y_final: State
    num_steps: Int[Array, ""]
    monitors: dict
    stats: dict = eqx.field(static=True)

    def __getitem__(self, name: str) -> Float[Array, "times nodes"]:
        if name in self.ys:
            return self.ys[name]
        if name in self.monitors:
            return self.monitors[name].data
        raise KeyError(
            f"No saved variable or monitor {name!r}; saved variables are "
            f"{sorted(self.ys)}, monitors {sorted(self.monitors)}."
        )

    @property
    def variables(self) -> tuple[str, ...]:
        """Names of the saved variables."""
        return tuple(self.ys)

    # ------------------------------------------------------------------ saving
    def _attrs(self, model, units, attrs) -> dict[str, str]:
        name, params = _model_parameters(model)
        out = {
            "format": _FORMAT,
            "time_units": "ms",
            "variables": json.dumps(list(self.ys)),
            "units": json.dumps(dict(units or {})),
            "model": json.dumps(name),
            "parameters": json.dumps(params),
            "stats": json.dumps(self.stats, default=str),
            "num_steps": json.dumps(np.asarray(self.num_steps).tolist()),
        }
        for k, v in (attrs or {}).items():
            out[f"user.{k}"] = json.dumps(v, default=str)
        return out

    def save(
        self,
        path: str | os.PathLike,
        *,
        model=None,
        units: dict[str, str] | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        """Save the solution to a file: NumPy `.npz` (default), or netCDF (`.nc`,
        through xarray, when it is installed).

        Saved: the times (ms), the trajectory and the final state of every variable,
        the monitors' outputs, and as attributes the variable names, `units`, the
        solver statistics, the model's class name and parameters (with `model`) and
        your own `attrs`. Read it back with `neuromass.Solution.load`.

        **Arguments:**

        - `path`: the file; its suffix picks the format (`.nc` netCDF, else `.npz`).
        - `model`: the node or `neuromass.Network` that was simulated, whose
          parameters are stored as attributes (as nested lists).
        - `units`: `{variable: unit}` to record, e.g. `{"y1": "mV"}`.
        - `attrs`: extra JSON-serialisable attributes.

        !!! example

            ```python
            import neuromass as nm

            node = nm.models.JansenRit()
            sol = nm.simulate(node, t1=50.0, dt=0.1, save_every=1.0)
            sol.save("jr.npz", model=node, units={"y1": "mV", "y2": "mV"})
            back = nm.Solution.load("jr.npz")
            back.attrs["parameters"]["mu"]  # 0.22 (as simulated, float32)
            ```
        """
        path = os.fspath(path)
        meta = self._attrs(model, units, attrs)
        if path.endswith(".nc"):
            self.to_xarray(model=model, units=units, attrs=attrs, _meta=meta).to_netcdf(
                path
            )
            return
        arrays = {"ts": np.asarray(self.ts)}
        for v, x in self.ys.items():
            arrays[f"ys/{v}"] = np.asarray(x)
        for v, x in self.y_final.items():
            arrays[f"y_final/{v}"] = np.asarray(x)
        for name, out in self.monitors.items():
            if out.ts is not None:
                arrays[f"monitors/{name}/ts"] = np.asarray(out.ts)
            if isinstance(out.data, dict):
                for k, x in out.data.items():
                    arrays[f"monitors/{name}/data/{k}"] = np.asarray(x)
            else:
                arrays[f"monitors/{name}/data"] = np.asarray(out.data)
        arrays["__attrs__"] = np.array(json.dumps(meta))
        if not path.endswith(".npz"):
            path = path + ".npz"
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Solution":
        """Read a solution written by `neuromass.Solution.save` (`.npz` or
        `.nc`).

        **Returns:** a `neuromass.Solution` (arrays on the default JAX device)
        whose `attrs` property holds the saved attributes (`variables`, `units`,
        `model`, `parameters`, `stats`, `time_units` and yours).
        """
        from .monitors import MonitorOutput

        path = os.fspath(path)
        if path.endswith(".nc"):
            return cls._load_netcdf(path)
        with np.load(path, allow_pickle=False) as f:
            files = {k: f[k] for k in f.files}
        meta = json.loads(str(files.pop("__attrs__")))
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a saved neuromass Solution.")
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
        return cls._from_parts(files["ts"], ys, y_final, monitors, meta)

    @classmethod
    def _from_parts(cls, ts, ys, y_final, monitors, meta):
        stats = json.loads(meta["stats"])
        stats["attrs"] = _decode(meta)
        return cls(
            ts=jnp.asarray(ts),
            ys=ys,
            y_final=y_final,
            num_steps=jnp.asarray(json.loads(meta["num_steps"])),
            monitors=monitors,
            stats=stats,
        )

    @property
    def attrs(self) -> dict[str, Any]:
        """The attributes of a loaded solution (empty for a fresh one)."""
        return self.stats.get("attrs", {})

    def to_xarray(
        self,
        *,
        model=None,
        units: dict[str, str] | None = None,
        attrs: dict[str, Any] | None = None,
        _meta=None,
    ):
        """The solution as an `xarray.Dataset` (needs xarray).

        Each saved variable is a data variable with dimensions `("time", "region")`
        (leading batch axes are named `batch0`, `batch1`, ...); the final state is
        `final_<variable>` (`("region",)`); each periodic monitor is `<monitor>`
        (or `<monitor>__<key>` for a dict output) with its own time dimension
        `<monitor>_time` (streaming monitors are kept by the `.npz` format only).
        The attributes are those of `neuromass.Solution.save` (JSON strings, so
        that the dataset can be written to netCDF as is); a variable's unit is also
        its `units` attribute.

        !!! example

            ```python
            import neuromass as nm

            sol = nm.simulate(nm.models.Hopf(), t1=20.0, dt=0.1, save_every=1.0)
            ds = sol.to_xarray(units={"x": "a.u."})
            ds["x"].sel(time=10.0)
            ```
        """
        try:
            import xarray as xr
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "`Solution.to_xarray` and netCDF files need xarray: "
                "`pip install xarray` (and scipy or netCDF4 for `.nc`)."
            ) from e
        meta = _meta if _meta is not None else self._attrs(model, units, attrs)
        units = dict(units or {})
        ts = np.asarray(self.ts)
        data_vars, coords = {}, {"time": ("time", ts, {"units": "ms"})}
        for v, x in self.ys.items():
            x = np.asarray(x)
            data_vars[v] = (_dims(("time", "region"), x.ndim), x, _unit(units, v))
        for v, x in self.y_final.items():
            x = np.asarray(x)
            data_vars[f"final_{v}"] = (_dims(("region",), x.ndim), x, _unit(units, v))
        keys = {}
        for name, out in self.monitors.items():
            if out.ts is None:
                continue  # streaming statistics: in the npz format only
            tdim = f"{name}_time"
            coords[tdim] = (tdim, np.asarray(out.ts), {"units": "ms"})
            parts = out.data if isinstance(out.data, dict) else {None: out.data}
            keys[name] = list(parts) if isinstance(out.data, dict) else None
            for k, x in parts.items():
                x = np.asarray(x)
                var = name if k is None else f"{name}__{k}"
                dims = (tdim,) + tuple(f"{var}_dim{i}" for i in range(1, x.ndim))
                data_vars[var] = (dims, x)
        meta = {**meta, "monitors": json.dumps(keys)}
        return xr.Dataset(data_vars, coords=coords, attrs=meta)

    @classmethod
    def _load_netcdf(cls, path):
        import xarray as xr

        from .monitors import MonitorOutput

        with xr.open_dataset(path) as ds:
            ds = ds.load()
        meta = dict(ds.attrs)
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a saved neuromass Solution.")
        names = json.loads(meta["variables"])
        ys = {v: jnp.asarray(ds[v].values) for v in names}
        y_final = {
            k[len("final_") :]: jnp.asarray(ds[k].values)
            for k in ds.data_vars
            if k.startswith("final_")
        }
        monitors = {}
        for name, keys in json.loads(meta.pop("monitors", "{}")).items():
            ts = jnp.asarray(ds[f"{name}_time"].values)
            if keys is None:
                data = jnp.asarray(ds[name].values)
            else:
                data = {k: jnp.asarray(ds[f"{name}__{k}"].values) for k in keys}
            monitors[name] = MonitorOutput(ts=ts, data=data)
        return cls._from_parts(ds["time"].values, ys, y_final, monitors, meta)


def _unit(units: dict[str, str], v: str) -> dict[str, str]:
    return {"units": units[v]} if v in units else {}


def _decode(meta: dict[str, str]) -> dict[str, Any]:
    out = {}
    for k, v in meta.items():
        if k in ("format", "time_units"):
            out[k] = v
        elif k.startswith("user."):
            out[k[len("user.") :]] = json.loads(v)
        else:
            out[k] = json.loads(v)
    return out
