"""The time grid of a fixed-step simulation: the one rule for steps and saved samples.

A run from `t0` to `t1` at step `dt` takes `n_total = floor((t1 - t0) / dt)` steps.
The first `n_trans = ceil(transient / dt)` steps are the transient. Samples are saved
every `stride = save_every / dt` steps from the end of the transient:

    t_k = t0 + (n_trans + k * stride) * dt,   k = 0 ... n_save - 1,

so the first saved sample is the state at the end of the transient (the initial state
at `t0` when `transient = 0`) and the last is at or before `t1`. Monitors, sweeps and
the command line use the same grid; a monitor of period `p` emits at
`t0 + (n_trans + j * p / dt) * dt`, `j = 1, 2, ...` (the end of each period).
"""

import dataclasses
import math

import jax.numpy as jnp


def steps_of(what: str, every: float, dt: float) -> int:
    """`every` (ms) as a whole, positive number of steps of `dt`, or a ValueError
    naming `what`."""
    stride = round(every / dt)
    if stride < 1 or abs(stride * dt - every) > 1e-6 * max(every, dt):
        raise ValueError(
            f"{what} ({every} ms) must be a positive multiple of `dt`={dt} ms."
        )
    return stride


@dataclasses.dataclass(frozen=True)
class TimeGrid:
    """The steps and saved samples of a run (see the module docstring)."""

    t0: float
    dt: float
    n_total: int
    n_trans: int
    stride: int
    n_save: int

    @classmethod
    def make(cls, t0, t1, dt, save_every, transient) -> "TimeGrid":
        for name, val in (
            ("t0", t0),
            ("t1", t1),
            ("dt", dt),
            ("transient", transient),
        ):
            if isinstance(val, bool) or not isinstance(val, int | float):
                raise ValueError(f"`{name}` must be a Python number (ms); got {val!r}.")
            if not math.isfinite(val):
                raise ValueError(f"`{name}` must be finite (ms); got {val!r}.")
        if dt <= 0:
            raise ValueError(f"`dt` must be positive (ms); got {dt}.")
        if t1 <= t0:
            raise ValueError(f"`t1` ({t1}) must be later than `t0` ({t0}).")
        n_total = int(math.floor((t1 - t0) / dt + 1e-6))
        if n_total < 1:
            raise ValueError(
                f"`dt`={dt} ms is longer than the simulated span {t1 - t0} ms."
            )
        if transient < 0 or transient > t1 - t0:
            raise ValueError(
                f"`transient` must be in [0, t1 - t0] = [0, {t1 - t0}] ms; got "
                f"{transient}."
            )
        n_trans = int(math.ceil(transient / dt - 1e-6))
        if save_every is None:
            stride = 1
        else:
            if isinstance(save_every, bool) or not isinstance(save_every, int | float):
                raise ValueError(
                    f"`save_every` must be a Python number (ms); got {save_every!r}."
                )
            stride = steps_of("`save_every`", save_every, dt)
            if n_total > n_trans and stride > n_total - n_trans:
                raise ValueError(
                    f"`save_every`={save_every} ms is longer than the saved span "
                    f"t1 - t0 - transient = {(n_total - n_trans) * dt:g} ms, so only "
                    "the first sample would be saved: use a shorter `save_every` or "
                    "a longer `t1`."
                )
        # (a transient over the whole run saves its final state only)
        n_save = (n_total - n_trans) // stride + 1
        return cls(float(t0), float(dt), n_total, n_trans, stride, n_save)

    def ts(self, dtype=None):
        """The times (ms) of the saved samples, `(n_save,)`."""
        k = self.n_trans + self.stride * jnp.arange(self.n_save)
        return jnp.asarray(self.t0 + k * self.dt, dtype=dtype)
