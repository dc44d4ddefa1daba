"""The per-point summaries a CLI sweep records (`sweep.outputs`) and the point
runner that simulates one network and reduces its trajectory to them."""

from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp


def _fc_values(x: jax.Array) -> jax.Array:
    import neuromass as nm

    return nm.metrics.upper_triangle(nm.metrics.fc(x))


def _mean_fc(x: jax.Array, dt: float) -> jax.Array:
    return jnp.mean(_fc_values(x))


def _fc_std(x: jax.Array, dt: float) -> jax.Array:
    return jnp.std(_fc_values(x))


def _mean(x: jax.Array, dt: float) -> jax.Array:
    return jnp.mean(x)


def _amplitude(x: jax.Array, dt: float) -> jax.Array:
    return jnp.mean(jnp.max(x, axis=0) - jnp.min(x, axis=0)) / 2


def _peak_frequency(x: jax.Array, dt: float) -> jax.Array:
    import neuromass as nm

    return jnp.mean(nm.metrics.peak_frequency(x, dt=dt))


def _metastability(x: jax.Array, dt: float) -> jax.Array:
    import neuromass as nm

    return nm.metrics.metastability(x, kind="signal")


def _synchrony(x: jax.Array, dt: float) -> jax.Array:
    import neuromass as nm

    return jnp.mean(nm.metrics.kuramoto_order_from_signal(x))


class _Output(NamedTuple):
    description: str
    fn: Callable[[jax.Array, float], jax.Array]
    min_regions: int = 1
    min_samples: int = 2


#: The per-point summaries a sweep can record: name -> description and function of
#: the saved trajectory `(time, regions)` of the chosen variable.
OUTPUTS: dict[str, _Output] = {
    "mean_fc": _Output(
        "mean functional connectivity: the average Pearson correlation over all "
        "pairs of regions",
        _mean_fc,
        min_regions=3,
        min_samples=3,
    ),
    "fc_std": _Output(
        "standard deviation of the functional connectivity over pairs of regions",
        _fc_std,
        min_regions=3,
        min_samples=3,
    ),
    "mean": _Output("the variable's average over time and regions", _mean),
    "amplitude": _Output(
        "half the peak-to-peak range over time, averaged over regions", _amplitude
    ),
    "peak_frequency": _Output(
        "frequency (Hz) of the largest peak of the Welch spectrum, averaged over "
        "regions",
        _peak_frequency,
        min_samples=4,
    ),
    "metastability": _Output(
        "standard deviation over time of the Kuramoto order parameter (phases from "
        "the Hilbert transform of each region's signal)",
        _metastability,
        min_regions=2,
        min_samples=4,
    ),
    "synchrony": _Output(
        "time average of the Kuramoto order parameter (Hilbert phases)",
        _synchrony,
        min_regions=2,
        min_samples=4,
    ),
}


class PointSummary(eqx.Module):
    """Simulate one network and reduce the trajectory of `variable` to scalars.

    Its configuration is static, so two sweeps of equal specs share one compiled
    program; `stimulus` (None without one) holds arrays, the same at every point.
    """

    outputs: tuple[str, ...] = eqx.field(static=True)
    variable: str = eqx.field(static=True)
    settings: tuple[tuple[str, Any], ...] = eqx.field(static=True)
    solver: str = eqx.field(static=True)
    stimulus: Any = None

    def __call__(self, net: Any, key: jax.Array | None = None) -> dict[str, jax.Array]:
        import diffrax

        import neuromass as nm

        settings = dict(self.settings)
        sol = nm.simulate(
            net,
            solver=getattr(diffrax, self.solver)(),
            variables=(self.variable,),
            key=key,
            stimulus=self.stimulus,
            **settings,
        )
        x = sol[self.variable]
        dt = settings["save_every"]
        return {name: OUTPUTS[name].fn(x, dt) for name in self.outputs}
