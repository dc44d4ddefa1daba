"""`Solution`: the result of a simulation (its files: `neuromass._io._solution`)."""

import os
from pathlib import Path
from typing import Any

import equinox as eqx
from jaxtyping import Array, Float, Int

from ._custom_types import State, Trajectory


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
    - `attrs`: the attributes of a solution read by `neuromass.Solution.load`
      (`variables`, `units`, `model`, `parameters`, `stats`, `time_units`,
      `format` and your own `attrs` of `save`); empty for a fresh one.

    `sol["x"]` is `sol.ys["x"]`; `sol["bold"]` is the data of the monitor named
    `"bold"` when no state variable has that name.

    Save it with `neuromass.Solution.save` (NumPy `.npz`, or netCDF-4 `.nc`;
    both checksummed), read it back with `neuromass.Solution.load`, or get an
    `xarray.Dataset` with `neuromass.Solution.to_xarray`.
    """

    ts: Float[Array, " times"]
    ys: Trajectory
    y_final: State
    num_steps: Int[Array, ""]
    monitors: dict
    stats: dict = eqx.field(static=True)
    attrs: dict = eqx.field(static=True, default_factory=dict)

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

    # ------------------------------------------------------------------- files
    def save(
        self,
        path: str | os.PathLike,
        *,
        model=None,
        units: dict[str, str] | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> Path:
        """Save the solution to a file: NumPy `.npz`, or netCDF-4 `.nc` (through
        xarray and h5netcdf, when they are installed).

        Saved: the times (ms), the trajectory and the final state of every variable,
        the number of steps, the monitors' outputs, and as attributes the variable
        names, `units`, the solver statistics, the model's class name and
        parameters (with `model`) and your own `attrs`. A batched solution (from
        `eqx.filter_vmap` over `simulate`) keeps its leading batch axes. Read it
        back with `neuromass.Solution.load`.

        **Files that cannot lie.** The file is written atomically (a killed process
        leaves the old file or none, never a part) and ends with the SHA-256 of its
        bytes; `load` verifies it before reading anything, so a damaged file is an
        error naming it, never altered values. The trailer is the `.npz` archive's
        comment, and follows the HDF5 data of a `.nc` file: `numpy.load` and
        `xarray.open_dataset` read both files as usual.

        **Arguments:**

        - `path`: the file; its suffix picks the format: `.npz` or `.nc`. A path
          without a suffix gets `.npz`; any other suffix is refused.
        - `model`: the node or `neuromass.Network` that was simulated, whose
          parameters are stored as attributes (as nested lists). Without it, a
          loaded solution keeps the model, `units` and `attrs` it was read with.
        - `units`: `{variable: unit}` to record, e.g. `{"y1": "mV"}`.
        - `attrs`: extra JSON-serialisable attributes.

        **Returns:** the path written.

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
        from ._io._solution import save

        return save(self, path, model=model, units=units, attrs=attrs)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Solution":
        """Read a solution written by `neuromass.Solution.save` (`.npz` or
        `.nc`), after verifying its checksum.

        **Returns:** a `neuromass.Solution` (arrays on the default JAX device)
        whose `attrs` hold the saved attributes (`variables`, `units`, `model`,
        `parameters`, `stats`, `time_units` and yours).

        **Raises:** `ValueError` naming the file when its suffix is not `.npz` or
        `.nc`, when it is not a saved Solution, or when it is damaged (its checksum
        does not match: restore it from a copy, or simulate and save again);
        `FileNotFoundError` when there is no file. A `.npz` saved by neuromass
        before checksums were added is read with a warning that it cannot be
        verified; such a `.nc` file is refused (open it with xarray if you trust
        it).
        """
        from ._io._solution import load

        return load(cls, path)

    def to_xarray(
        self,
        *,
        model=None,
        units: dict[str, str] | None = None,
        attrs: dict[str, Any] | None = None,
    ):
        """The solution as an `xarray.Dataset` (needs xarray and h5netcdf).

        Each saved variable is a data variable with dimensions `("time", "region")`
        (leading batch axes are named `batch0`, `batch1`, ...); the final state is
        `final_<variable>` (`("region",)`); `num_steps` is a variable; each monitor
        is `<monitor>` (or `<monitor>__<key>` for a dict output), periodic ones
        with their own time dimension `<monitor>_time`. The attributes are those of
        `neuromass.Solution.save` (JSON strings, so that the dataset can be
        written to netCDF as is) and a `layout` that `load` uses; a variable's unit
        is also its `units` attribute.

        !!! example

            ```python
            import neuromass as nm

            sol = nm.simulate(nm.models.Hopf(), t1=20.0, dt=0.1, save_every=1.0)
            ds = sol.to_xarray(units={"x": "a.u."})
            ds["x"].sel(time=10.0)
            ```
        """
        from ._io._solution import dataset, metadata

        return dataset(self, metadata(self, model, units, attrs))
