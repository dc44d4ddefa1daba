"""`RegionStimulus`: a temporal equation scaled per region (TVB's `StimuliRegion`)."""

from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..equations._base import concrete
from ._base import AbstractPatternStimulus, check_variables


class RegionStimulus(AbstractPatternStimulus):
    r"""One time course, scaled by a weight per region: The Virtual Brain's
    `StimuliRegion`.

    $$S_i(t) = w_i\, f(t)$$

    added to the derivative of each stimulated variable of region $i$. In TVB terms,
    `weights` is `StimuliRegion.weight`, `temporal` is `StimuliRegion.temporal` and
    `variables` is the model's `stvar`.

    **Arguments:**

    - `weights`: `(N,)` weight per region, in the connectome's region order (any
      sign; zero for the regions left unstimulated).
    - `temporal`: the time course $f(t)$, $t$ in ms: an equation from
      `neuromass.equations` (e.g. `neuromass.equations.PulseTrain`) or any
      callable returning a scalar, or one value per region, at a time $t$.
    - `variables`: the stimulated state variable(s), a name or a tuple of names;
      None (default) for the network's coupled variables, as TVB's `stvar` defaults
      to the model's `cvar`.

    `values(t)` returns the `(N,)` pattern $w\,f(t)$ (shape `S + (N,)` for an array
    of times of shape `S`).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        weights = jnp.zeros(76).at[jnp.array([10, 48])].set(1.0)
        stim = nm.stimuli.RegionStimulus(
            weights, nm.equations.PulseTrain(onset=20.0, T=50.0, tau=5.0, amp=0.5),
            variables="x",
        )
        print(stim.values(22.0)[jnp.array([0, 10, 48])])  # [0.  0.5 0.5]
        ```
    """

    weights: Float[Array, " nodes"]
    temporal: Callable
    variables: tuple[str, ...] | None = eqx.field(static=True)
    _nodes_argument: ClassVar[str] = "weights"

    def __init__(
        self,
        weights: Float[ArrayLike, " nodes"],
        temporal: Callable,
        variables: str | tuple[str, ...] | None = None,
    ):
        weights = jnp.asarray(weights, dtype=jnp.result_type(float))
        if weights.ndim != 1:
            raise ValueError(
                "`RegionStimulus(weights=...)` must be a 1-D array with one weight per "
                f"region; got shape {weights.shape}. For one region of N, use e.g. "
                "`jnp.zeros(N).at[i].set(1.0)`."
            )
        value = concrete(weights)
        if value is not None and not np.all(np.isfinite(value)):
            raise ValueError(
                "`RegionStimulus(weights=...)` must be finite; got NaN or inf at "
                f"region(s) {np.flatnonzero(~np.isfinite(value)).tolist()}."
            )
        if not callable(temporal):
            raise TypeError(
                "`RegionStimulus(temporal=...)` must be an equation such as "
                "`nm.equations.PulseTrain()` or a callable of time (ms); got "
                f"{type(temporal).__name__}."
            )
        self.weights = weights
        self.temporal = temporal
        self.variables = check_variables("RegionStimulus", variables)
        try:  # as `values` calls it: on a time with a trailing region axis
            shape = jax.eval_shape(temporal, jnp.zeros((1,), weights.dtype)).shape
        except Exception as e:
            raise TypeError(
                "`RegionStimulus(temporal=...)` could not be evaluated at a time t "
                f"with jax.numpy ({type(e).__name__}: {e}). It must map a time in ms "
                "to a scalar, or to one value per region."
            ) from e
        if shape not in ((), (1,), weights.shape):
            raise ValueError(
                "`RegionStimulus(temporal=...)` must return a scalar or one value per "
                f"region at a time t, i.e. {weights.shape[0]} values for "
                f"{weights.shape[0]} weights; got shape {shape}. Give its parameters "
                "as scalars or one per region."
            )

    @property
    def n_nodes(self) -> int:
        return self.weights.shape[0]

    @property
    def per_variable(self) -> bool:
        return False

    def values(self, t: Float[ArrayLike, "..."]) -> Float[Array, "... nodes"]:
        """The pattern $w\\,f(t)$ at time(s) `t` (ms): shape `(N,)` for a scalar
        time, `S + (N,)` for times of shape `S`."""
        t = jnp.asarray(t)
        f = self.temporal(t[..., None])  # S + (1,) or S + (N,)
        w = self.weights.reshape((1,) * (jnp.ndim(f) - 1) + self.weights.shape)
        return w * f

    def covers(self, t0: float, t1: float) -> bool:
        """Always true: an equation is defined at every time."""
        return True

    def check_covers(self, t0: float, t1: float) -> None:
        """Nothing to check: an equation is defined at every time."""
