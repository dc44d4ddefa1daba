"""Noise models: the diffusion part of a network SDE."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp

from .._custom_types import State
from .._inputs._base import AbstractInput


class AbstractNoise(AbstractInput):
    r"""Base class of noise models.

    A network with noise is the Itô SDE

    $$d\mathbf{s} = f(t, \mathbf{s})\,dt + g(t, \mathbf{s})\,d\mathbf{W}_t$$

    with one independent Wiener process per state variable and region, and a diagonal
    diffusion $g$. A noise model returns $g$ as a dict of `(N,)` arrays, one per state
    variable (zeros for variables without noise). `simulate` turns it into a Diffrax
    `ControlTerm` driven by a Brownian path built from the `key` it is given.

    A noise model is an input to the vector field (`neuromass.AbstractInput`): white
    noise gives the diffusion; coloured noise
    (`neuromass.noise.OrnsteinUhlenbeck`) carries its own state variables and
    adds to the drift.
    """

    @abc.abstractmethod
    def diffusion(self, t, state: State) -> State:
        """The diagonal diffusion coefficient of each state variable."""

    @property
    @abc.abstractmethod
    def is_additive(self) -> bool:
        """Whether the diffusion is independent of the state (additive noise)."""


def _check_variables(variables):
    if variables is None:
        return None
    if isinstance(variables, str):
        return (variables,)
    variables = tuple(variables)
    if not variables or not all(isinstance(v, str) for v in variables):
        raise ValueError(
            "`variables` must be a non-empty tuple of state-variable names, or None "
            f"for all variables; got {variables!r}."
        )
    return variables


class Additive(AbstractNoise):
    r"""Additive Gaussian noise of fixed intensity.

    $$d s_v = f_v\,dt + \sigma_v\,dW_v$$

    so over a step $dt$ (ms) the variable receives a Gaussian increment of standard
    deviation $\sigma\sqrt{dt}$. For The Virtual Brain's `Additive(nsig=D)`,
    which uses $\sqrt{2D}\,dW$, take $\sigma = \sqrt{2 D}$.

    **Arguments:**

    - `sigma`: noise intensity (units of the variable per $\sqrt{\text{ms}}$): a
      scalar, a per-region `(N,)` array, or a dict `{variable: sigma}`.
    - `variables`: the state variables that receive noise (default: all of them, or the
      keys of a `sigma` dict).

    !!! example

        ```python
        import jax
        import neuromass as nm

        noise = nm.noise.Additive(0.01, variables=("x", "y"))
        sol = nm.simulate(nm.models.Hopf(), t1=100.0, dt=0.1, noise=noise,
                          key=jax.random.key(0))
        ```
    """

    sigma: object
    variables: tuple[str, ...] | None = eqx.field(static=True)

    def __init__(self, sigma, variables=None):
        if isinstance(sigma, dict):
            sigma = {k: jnp.asarray(v, dtype=float) for k, v in sigma.items()}
            if variables is None:
                variables = tuple(sigma)
            missing = set(_check_variables(variables)) - set(sigma)
            if missing:
                raise ValueError(
                    f"`sigma` has no value for variable(s) {sorted(missing)} listed in "
                    "`variables`."
                )
        else:
            sigma = jnp.asarray(sigma, dtype=float)
        _check_sigma(sigma)
        self.sigma = sigma
        self.variables = _check_variables(variables)

    def _sigma_for(self, name):
        return self.sigma[name] if isinstance(self.sigma, dict) else self.sigma

    def diffusion(self, t, state):
        return _diag(state, self.variables, lambda v, x: self._sigma_for(v))

    def checked(self):
        return eqx.tree_at(lambda n: n.sigma, self, _checked_sigma(self.sigma))

    @property
    def is_additive(self) -> bool:
        return True


class Multiplicative(AbstractNoise):
    r"""Multiplicative (state-proportional) Gaussian noise.

    $$d s_v = f_v\,dt + \sigma_v\,s_v\,dW_v$$

    **Arguments:**

    - `sigma`: relative noise intensity (1/$\sqrt{\text{ms}}$): a scalar or per-region
      `(N,)` array.
    - `variables`: the state variables that receive noise (default: all).

    !!! example

        ```python
        import neuromass as nm

        noise = nm.noise.Multiplicative(0.05, variables=("x",))
        ```
    """

    sigma: object
    variables: tuple[str, ...] | None = eqx.field(static=True)

    def __init__(self, sigma, variables=None):
        sigma = jnp.asarray(sigma, dtype=float)
        _check_sigma(sigma)
        self.sigma = sigma
        self.variables = _check_variables(variables)

    def diffusion(self, t, state):
        return _diag(state, self.variables, lambda v, x: self.sigma * x)

    def checked(self):
        return eqx.tree_at(lambda n: n.sigma, self, _checked_sigma(self.sigma))

    @property
    def is_additive(self) -> bool:
        return False


def _checked_sigma(sigma, name="sigma"):
    """`sigma` (an array or a dict of arrays) with a run-time check that it is
    finite and non-negative (traced values)."""

    def one(s):
        return eqx.error_if(
            s,
            ~jnp.all(jnp.isfinite(s) & (s >= 0)),
            f"Noise `{name}` is NaN, infinite or negative (a traced value, e.g. set "
            "with `eqx.tree_at` or swept); it is a standard deviation per sqrt(ms), "
            ">= 0.",
        )

    if isinstance(sigma, dict):
        return {k: one(v) for k, v in sigma.items()}
    return one(sigma)


def _check_sigma(sigma):
    leaves = sigma.values() if isinstance(sigma, dict) else [sigma]
    for s in leaves:
        try:
            bad = bool(jnp.any(~jnp.isfinite(s)) | jnp.any(s < 0))
        except jax.errors.ConcretizationTypeError:  # traced: cannot check here
            continue
        if bad:
            raise ValueError(
                f"Noise `sigma` must be finite and non-negative; got {s}. Noise "
                "intensity is a standard deviation per sqrt(ms)."
            )


def _diag(state, variables, fn):
    out = {}
    for name, x in state.items():
        if variables is None or name in variables:
            out[name] = jnp.broadcast_to(fn(name, x), x.shape).astype(x.dtype)
        else:
            out[name] = jnp.zeros_like(x)
    return out
