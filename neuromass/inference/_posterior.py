"""`Posterior`: the log-density of model parameters given data, and likelihoods."""

from collections.abc import Callable, Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, PyTree

from .._fit import AbstractConstraint
from ..metrics import fc as _fc, upper_triangle
from ..sweeps import apply_point
from ._prior import resolve_priors, sample_shape


# ------------------------------------------------------------------ likelihoods
class GaussianTimeSeries(eqx.Module):
    r"""Gaussian likelihood of an observed time series (EEG, BOLD, LFP, ...).

    With $y$ the observed array, $\hat y(\theta)$ = `observe(model)` the simulated
    one (same shape) and $\sigma$ the measurement noise,

    $$\log p(y \mid \theta) = -\frac{1}{2}\sum_{t,i}
      \frac{\left(y_{ti} - \hat y_{ti}(\theta)\right)^2}{\sigma^2}
      - T N \log\left(\sigma\sqrt{2\pi}\right).$$

    This is the exact likelihood of a deterministic simulation observed with
    independent Gaussian noise; give `observe` a fixed initial state (`y0=`) and, for
    a noisy simulation, a fixed `key` (then it is the likelihood conditional on
    that noise path).

    **Arguments:**

    - `observed`: the observed array, e.g. `(time, regions)`.
    - `observe`: `observe(model) -> array` of the same shape (usually
        `nm.simulate(...)` followed by a monitor or a projection).
    - `sigma`: the observation noise standard deviation (same units as `observed`);
        a scalar or an array broadcasting to `observed`.

    !!! example

        ```python
        lik = nmi.GaussianTimeSeries(
            eeg, lambda n: nm.simulate(n, t1=500.0, dt=0.5, save_every=2.0,
                                       y0=y0)["x"], sigma=0.05)
        ```
    """

    observed: Float[Array, "..."]
    observe: Callable[[PyTree], Float[Array, "..."]] = eqx.field(static=True)
    sigma: Float[Array, "..."]

    def __init__(self, observed: Float[ArrayLike, "..."], observe, sigma):
        if not callable(observe):
            raise TypeError(
                "`observe` must be a function `observe(model) -> array`; got "
                f"{type(observe).__name__}."
            )
        if not np.all(np.asarray(sigma) > 0):
            raise ValueError(f"`sigma` must be > 0; got {sigma!r}.")
        self.observed = jnp.asarray(observed)
        self.observe = observe
        self.sigma = jnp.asarray(sigma, dtype=self.observed.dtype)

    def __call__(self, model: PyTree) -> Float[Array, ""]:
        pred = jnp.asarray(self.observe(model))
        if pred.shape != self.observed.shape:
            raise ValueError(
                f"`observe(model)` returned shape {pred.shape}, but `observed` has "
                f"shape {self.observed.shape}; they must match."
            )
        r = (self.observed - pred) / self.sigma
        norm = jnp.broadcast_to(jnp.log(self.sigma), r.shape)
        return -0.5 * jnp.sum(r**2) - jnp.sum(norm) - 0.5 * r.size * jnp.log(2 * jnp.pi)


class GaussianFC(eqx.Module):
    r"""Gaussian likelihood of an observed functional connectivity matrix, on the
    Fisher-transformed correlations of the upper triangle.

    With $z_{ij} = \operatorname{artanh} \mathrm{FC}_{ij}$ for $i < j$ (observed)
    and $\hat z_{ij}(\theta)$ the same for the FC of `observe(model)`,

    $$\log p(\mathrm{FC} \mid \theta) = -\frac{1}{2}\sum_{i<j}
      \frac{\left(z_{ij} - \hat z_{ij}(\theta)\right)^2}{\sigma^2}
      - M \log\left(\sigma\sqrt{2\pi}\right), \qquad M = \frac{N(N-1)}{2}.$$

    The Fisher transform makes the sampling error of a correlation estimated from
    $T$ effectively independent samples roughly Gaussian with
    $\sigma \approx 1/\sqrt{T - 3}$, a sensible default scale for `sigma`.

    **Arguments:**

    - `observed_fc`: the observed FC, `(regions, regions)`.
    - `observe`: `observe(model) -> (time, regions)` simulated activity (e.g. BOLD)
        whose FC (`nm.metrics.fc`) is compared.
    - `sigma`: the standard deviation of the Fisher-z values.
    - `clip`: correlations are clipped to $[-\mathrm{clip}, \mathrm{clip}]$ before the
        transform (keeps $\operatorname{artanh}$ finite).

    !!! example

        ```python
        lik = nmi.GaussianFC(empirical_fc, lambda n: nm.simulate(
            n, t1=2000.0, dt=0.5, save_every=5.0, y0=y0)["x"], sigma=0.1)
        ```
    """

    observed_z: Float[Array, " pairs"]
    observe: Callable[[PyTree], Float[Array, "time nodes"]] = eqx.field(static=True)
    sigma: Float[Array, ""]
    clip: float = eqx.field(static=True)

    def __init__(self, observed_fc, observe, sigma, clip: float = 0.999):
        fc = jnp.asarray(observed_fc)
        if fc.ndim != 2 or fc.shape[0] != fc.shape[1] or fc.shape[0] < 2:
            raise ValueError(
                "`observed_fc` must be a square (regions, regions) matrix with at "
                f"least 2 regions; got shape {fc.shape}."
            )
        if not callable(observe):
            raise TypeError(
                "`observe` must be a function `observe(model) -> (time, regions)`; "
                f"got {type(observe).__name__}."
            )
        if not float(sigma) > 0:
            raise ValueError(f"`sigma` must be > 0; got {sigma!r}.")
        if not 0 < clip < 1:
            raise ValueError(f"`clip` must be in (0, 1); got {clip!r}.")
        self.clip = float(clip)
        self.observed_z = jnp.arctanh(jnp.clip(upper_triangle(fc), -clip, clip))
        self.observe = observe
        self.sigma = jnp.asarray(sigma, dtype=fc.dtype)

    def __call__(self, model: PyTree) -> Float[Array, ""]:
        x = jnp.asarray(self.observe(model))
        z = jnp.arctanh(jnp.clip(upper_triangle(_fc(x)), -self.clip, self.clip))
        if z.shape != self.observed_z.shape:
            raise ValueError(
                f"`observe(model)` gives {x.shape[-1]} regions, but `observed_fc` has "
                f"{self.observed_z.shape} pairs; the region counts must match."
            )
        r = (self.observed_z - z) / self.sigma
        return -0.5 * jnp.sum(r**2) - r.size * (
            jnp.log(self.sigma) + 0.5 * jnp.log(2 * jnp.pi)
        )


GaussianTimeSeries.__init__.__doc__ = """**Arguments:** see the class."""
GaussianFC.__init__.__doc__ = """**Arguments:** see the class."""


# --------------------------------------------------------------------- posterior
def _log_abs_jacobian(c: AbstractConstraint | None, u: Array) -> Array:
    """$\\sum \\log |dx/du|$ of an elementwise constraint (by forward-mode AD)."""
    if c is None:
        return jnp.zeros((), u.dtype)
    _, slope = jax.jvp(c.forward, (u,), (jnp.ones_like(u),))
    return jnp.sum(jnp.log(jnp.abs(slope)))


class Posterior(eqx.Module):
    r"""The posterior density of some parameters of a model given data.

    The parameters $\theta$ are named by paths into the model, as in a sweep
    (`"k"`, `"node.a"`, `"speed"`), and each has a prior $p(\theta_j)$ (a NumPyro
    distribution, or a sweep axis' distribution). The unnormalised log-posterior is

    $$\log p(\theta \mid y) = \log p(y \mid \theta) + \sum_j \log p(\theta_j)
      + \text{const},$$

    where the likelihood $\log p(y \mid \theta)$ = `likelihood(model)` is evaluated
    on the model with the parameters set (e.g. `neuromass.inference.GaussianFC`
    or any function of the model returning a scalar).

    **Constraints** are the reparametrisations of `nm.fit`: a parameter
    with a bounded support is sampled as an unconstrained $u$ with
    $\theta = \mathrm{forward}(u)$, and the density of $u$ carries the Jacobian,

    $$\log p(u \mid y) = \log p(\theta(u) \mid y) +
      \sum \log\left|\frac{\partial \theta}{\partial u}\right|.$$

    By default the constraint follows the prior's support: none on the real line,
    `nm.Positive` on $(0, \infty)$, `nm.Bounded` on an
    interval; `constraints=` overrides it per parameter.

    **Arguments:**

    - `model`: the model (e.g. an `neuromass.Network`); the values it holds
        for the inferred parameters fix their shapes and serve as initial values.
    - `priors`: `{path: distribution}`; a scalar distribution on an array parameter
        (e.g. `"node.a"` of shape `(N,)`) is an i.i.d. prior on its elements.
    - `likelihood`: `likelihood(model) -> scalar` log-likelihood, traceable by JAX;
        `None` samples the prior (useful to check a setup).
    - `constraints`: `{path: constraint}` overriding the default constraints.

    When a sampled parameter changes the delays (`"speed"`, `"lengths"`), build the
    network with `max_delay=` (the longest delay at the slowest speed of the prior)
    and `min_delay=` (the shortest at the fastest), so that the delay buffer is
    sized for every value the sampler visits.

    !!! example

        ```python
        import numpyro.distributions as dist
        import neuromass.inference as nmi

        post = nmi.Posterior(
            net,
            priors={"k": dist.LogNormal(-1.0, 0.5), "node.a": dist.Normal(-0.1, 0.1)},
            likelihood=nmi.GaussianFC(fc_obs, observe, sigma=0.1),
        )
        samples = nmi.nuts(post, jax.random.key(0), num_chains=4)
        ```
    """

    model: PyTree
    likelihood: Callable[[PyTree], Float[Array, ""]] | None
    names: tuple[str, ...] = eqx.field(static=True)
    priors: tuple[Any, ...]
    constraints: tuple[AbstractConstraint | None, ...]
    shapes: tuple[tuple[int, ...], ...] = eqx.field(static=True)

    def __init__(
        self,
        model: PyTree,
        priors: Mapping[str, Any],
        likelihood: Callable[[PyTree], Float[ArrayLike, ""]] | None,
        *,
        constraints: Mapping[str, AbstractConstraint | None] | None = None,
    ):
        if likelihood is not None and not callable(likelihood):
            raise TypeError(
                "`likelihood` must be a function `likelihood(model) -> scalar` (or "
                f"None to sample the prior); got {type(likelihood).__name__}."
            )
        names, dists, cons, shapes = resolve_priors(model, priors, constraints)
        self.model = model
        self.likelihood = likelihood
        self.names = names
        self.priors = dists
        self.constraints = cons
        self.shapes = shapes

    # -- conversions
    def constrain(self, u: Mapping[str, Array]) -> dict[str, Array]:
        """Unconstrained coordinates to parameter values, `{path: array}`."""
        return {
            n: u[n] if c is None else c.forward(u[n])
            for n, c in zip(self.names, self.constraints)
        }

    def unconstrain(self, values: Mapping[str, ArrayLike]) -> dict[str, Array]:
        """Parameter values to unconstrained coordinates (the inverse of
        `constrain`)."""
        out = {}
        for n, c, s in zip(self.names, self.constraints, self.shapes):
            v = jnp.broadcast_to(jnp.asarray(values[n], jnp.result_type(float)), s)
            out[n] = v if c is None else c.inverse(v)
        return out

    def model_at(self, values: Mapping[str, ArrayLike]) -> PyTree:
        """The model with the parameters set to `values` (`{path: value}`)."""
        return apply_point(self.model, {n: values[n] for n in self.names})

    def initial_values(self) -> dict[str, Array]:
        """The model's current values of the parameters (broadcast to their
        shapes)."""
        from ._prior import _current_value

        return {
            n: jnp.broadcast_to(
                jnp.asarray(_current_value(self.model, n), jnp.result_type(float)), s
            )
            for n, s in zip(self.names, self.shapes)
        }

    # -- densities
    def log_prior(self, values: Mapping[str, Array]) -> Float[Array, ""]:
        """$\\sum_j \\log p(\\theta_j)$ at parameter values."""
        total = jnp.zeros(())
        for n, d in zip(self.names, self.priors):
            total = total + jnp.sum(d.log_prob(jnp.asarray(values[n])))
        return total

    def log_likelihood(self, values: Mapping[str, Array]) -> Float[Array, ""]:
        """$\\log p(y \\mid \\theta)$ at parameter values (0 without a
        likelihood)."""
        if self.likelihood is None:
            return jnp.zeros(())
        value = jnp.asarray(self.likelihood(self.model_at(values)))
        if value.shape != ():
            raise ValueError(
                f"`likelihood` must return a scalar; got shape {value.shape}."
            )
        return value

    def log_density(self, u: Mapping[str, Array]) -> Float[Array, ""]:
        """The unnormalised log-posterior of the unconstrained coordinates `u`
        (including the constraints' Jacobians): the potential NUTS samples."""
        values = self.constrain(u)
        jac = sum(
            (_log_abs_jacobian(c, u[n]) for n, c in zip(self.names, self.constraints)),
            jnp.zeros(()),
        )
        return self.log_prior(values) + jac + self.log_likelihood(values)

    def sample_prior(self, key: PRNGKeyArray, n: int) -> dict[str, Array]:
        """`n` draws from the prior, `{path: (n, *shape)}`."""
        keys = jax.random.split(key, len(self.names))
        out = {}
        for k, name, d, s in zip(keys, self.names, self.priors, self.shapes):
            draw = d.sample(k, (n,) + sample_shape(d, s))
            out[name] = jnp.broadcast_to(draw, (n,) + s)
        return out


Posterior.__init__.__doc__ = """**Arguments:** see the class."""
