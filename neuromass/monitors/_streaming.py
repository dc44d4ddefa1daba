"""Streaming reductions: statistics accumulated without storing the trajectory."""

import equinox as eqx
import jax.numpy as jnp

from ._base import AbstractMonitor


class RunningStats(AbstractMonitor):
    r"""Running mean and variance of one variable (Welford's algorithm), updated
    every `every` ms after the transient. Memory O(N) for any duration.

    Returns `{"mean": (N,), "var": (N,), "count": ()}` (population variance,
    $\frac{1}{n}\sum (x - \bar x)^2$).

    **Arguments:**

    - `variable`: the state variable.
    - `every`: update period in ms (default: every step).
    - `name`: output key (default `"stats"`).

    !!! example

        ```python
        import neuromass as nm

        stats = nm.monitors.RunningStats("x")
        sol = nm.simulate(nm.models.Hopf(), t1=100.0, dt=0.1, monitors=[stats])
        sol.monitors["stats"].data["mean"]
        ```
    """

    variable: str = eqx.field(static=True, default="x")
    every: float | None = eqx.field(static=True, default=None)
    name: str = eqx.field(static=True, default="stats")

    @property
    def variables(self):
        return (self.variable,)

    def period(self, dt):
        return None

    def sample_every(self, dt):
        return dt if self.every is None else self.every

    def init(self, y0, dt):
        x = y0[self.variable]
        return (jnp.zeros(()), jnp.zeros_like(x), jnp.zeros_like(x))

    def update(self, state, t, y, dt):
        return state

    def observe(self, state, y):
        """Add one sample (called every `sample_every(dt)` ms after the transient)."""
        n, mean, m2 = state
        x = y[self.variable]
        n = n + 1.0
        delta = x - mean
        mean = mean + delta / n
        return (n, mean, m2 + delta * (x - mean))

    def finalize(self, state):
        n, mean, m2 = state
        return {"mean": mean, "var": m2 / n, "count": n}


class OnlineFC(AbstractMonitor):
    r"""Functional connectivity (Pearson correlation between regions) accumulated
    online with Welford's covariance update, so a long simulation's FC needs O(N²)
    memory instead of O(T N).

    $$C \leftarrow C + (x - \bar x_{n-1})(x - \bar x_n)^\top,\qquad
    \mathrm{FC}_{ij} = \frac{C_{ij}}{\sqrt{C_{ii} C_{jj}}}$$

    Either over a state variable sampled every `every` ms, or over the samples of
    another periodic monitor given as `source` (e.g. `source=Bold(...)` for BOLD FC,
    updated at every TR). A source that evolves through the transient (`Bold`'s
    hemodynamics) does so here too, so the FC is that of the samples the source
    emits on its own; the accumulation starts after the transient.

    Returns `{"fc": (N, N), "mean": (N,), "cov": (N, N), "count": ()}`.

    **Arguments:**

    - `variable`: the state variable (ignored when `source` is given).
    - `every`: sampling period in ms (default 1 ms).
    - `source`: optional periodic monitor whose samples (an `(N,)` array) are used.
    - `name`: output key (default `"fc"`).

    !!! example

        ```python
        import jax
        import neuromass as nm

        net = nm.Network(nm.models.Hopf(a=-0.1), nm.datasets.load_connectome().weights,
                         k=0.1, coupling="diffusive", noise=nm.noise.Additive(0.05))
        sol = nm.simulate(net, t1=100.0, dt=0.1, key=jax.random.key(0),
                          monitors=[nm.monitors.OnlineFC("x", every=1.0)])
        sol.monitors["fc"].data["fc"].shape   # (76, 76)
        ```
    """

    variable: str = eqx.field(static=True, default="x")
    every: float = eqx.field(static=True, default=1.0)
    source: AbstractMonitor | None = None
    eps: float = eqx.field(static=True, default=1e-12)
    name: str = eqx.field(static=True, default="fc")

    @property
    def variables(self):
        if self.source is not None:
            return tuple(self.source.variables or ())
        return (self.variable,)

    @property
    def warm_through_transient(self):
        # A warm source (BOLD hemodynamics) keeps evolving through the transient, as
        # it does on its own; the accumulators change only in `observe`, which runs
        # after the transient, so they still start empty.
        return self.source is not None and self.source.warm_through_transient

    def period(self, dt):
        return None

    def sample_every(self, dt):
        return self.source.period(dt) if self.source is not None else self.every

    def init(self, y0, dt):
        x = y0[self.variable] if self.source is None else None
        inner = self.source.init(y0, dt) if self.source is not None else None
        if x is None:
            n = next(iter(y0.values())).shape[-1]
            x = jnp.zeros((n,), next(iter(y0.values())).dtype)
        return (
            inner,
            jnp.zeros(()),
            jnp.zeros_like(x),
            jnp.zeros(x.shape * 2, x.dtype),
        )

    def update(self, state, t, y, dt):
        # the source (if any) evolves every step; accumulation happens in `observe`
        inner, n, mean, cov = state
        if self.source is not None:
            inner = self.source.update(inner, t, y, dt)
        return (inner, n, mean, cov)

    def observe(self, state, y):
        """Add one sample (called every `sample_every(dt)` ms after the transient)."""
        inner, n, mean, cov = state
        if self.source is not None:
            inner, x = self.source.emit(inner)
        else:
            x = y[self.variable]
        n = n + 1.0
        delta = x - mean
        mean = mean + delta / n
        cov = cov + jnp.outer(delta, x - mean)
        return (inner, n, mean, cov)

    def finalize(self, state):
        _, n, mean, cov = state
        sd = jnp.sqrt(jnp.maximum(jnp.diag(cov), self.eps))
        fc = cov / (sd[:, None] * sd[None, :])
        return {"fc": fc, "mean": mean, "cov": cov / n, "count": n}
