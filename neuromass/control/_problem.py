"""`ControlProblem`: a network, a cost and a control grid, laid on one simulation."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._simulate._simulate import _as_network, simulate
from ..stimuli import AbstractStimulus, TimeSeriesStimulus
from ._cost import Cost, as_cost
from ._grid import ControlGrid, Layout


_OWN = {
    "stimulus": "pass a fixed stimulus as `background=`; the control is added to it",
    "key": "pass `key=` to the control itself",
}


def _as_keys(key):
    """`key` as typed keys: None, one key (shape ()) or a batch (shape (B,))."""
    if key is None:
        return None
    if not isinstance(key, jax.Array):
        raise TypeError(
            "`key` must be a JAX random key such as `jax.random.key(0)`, or a batch "
            f"of keys such as `jax.random.split(jax.random.key(0), 8)`; got {key!r}."
        )
    if not jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.dtype != jnp.uint32 or key.shape[-1:] != (2,):
            raise TypeError(
                "`key` must be a JAX random key (`jax.random.key(0)`) or a batch of "
                f"them; got an array of dtype {key.dtype} and shape {key.shape}."
            )
        key = jax.random.wrap_key_data(key)
    if key.ndim > 1:
        raise ValueError(
            f"`key` must be one key or a 1-D batch of keys; got shape {key.shape}."
        )
    return key


class ControlProblem(eqx.Module):
    r"""A control problem: a model, a cost and a control grid laid on one
    simulation. `neuromass.control.optimal_control` builds one and descends
    its cost; build it yourself to evaluate the cost of a control, its gradient
    (`jax.grad` of `problem.value`), or the controlled simulation.

    The cost of the samples $u$ of the control is

    $$J(u) = \sum_{P} w_P\,\mathbb{E}_\xi\big[P(x[u, \xi])\big] + w_2\,E(u)
      + w_1\,S(u),$$

    the precision terms $P$ of the simulation $x[u, \xi]$ driven by the control
    (plus `background`), averaged over the noise realisations $\xi$ of the keys,
    then the energy $E$ and the sparsity $S$ of the control.

    **Arguments:**

    - `model`: an `neuromass.Network` or a node model, with or without delays
      and noise.
    - `cost`: a `neuromass.control.Cost` or a single term.
    - `control`: a `neuromass.control.ControlGrid`.
    - `key`: None without noise; one key (the same noise realisation for every
      evaluation), or a batch of keys, e.g. `jax.random.split(key, 8)`, whose
      costs are averaged.
    - `background`: a fixed stimulus added to the control (default none).
    - `**simulate_kwargs`: the arguments of `neuromass.simulate` (`t1` and
      `dt` at least; not `stimulus` or `key`).

    **Attributes:** `model`, `cost`, `layout` (the control's times, mask and
    bounds), `keys`, `background`, `simulate_kwargs`; `initial` are the initial
    samples `(K, N, V)` and `times` their times (ms).

    !!! example

        ```python
        import jax
        import neuromass as nm

        node = nm.models.WilsonCowan()
        target = jax.numpy.full((101, 1), 0.46)
        problem = nm.control.ControlProblem(
            node, nm.control.TargetTrajectory(target, variable="E")
            + 1e-2 * nm.control.Energy(),
            nm.control.ControlGrid(spacing=1.0), t1=100.0, dt=0.1, save_every=1.0,
            y0={"E": 0.0, "I": 0.0})
        value, terms = problem.evaluate(problem.initial)
        grad = jax.grad(problem.value)(problem.initial)   # (101, 1, 1)
        ```
    """

    model: object
    cost: Cost
    layout: Layout
    keys: PRNGKeyArray | None
    background: AbstractStimulus | None
    simulate_kwargs: dict

    def __init__(
        self,
        model,
        cost,
        control: ControlGrid,
        *,
        key: PRNGKeyArray | None = None,
        background: AbstractStimulus | None = None,
        **simulate_kwargs,
    ):
        cost = as_cost(cost)
        if not isinstance(control, ControlGrid):
            raise TypeError(
                "`control` must be a `nm.control.ControlGrid`, e.g. "
                f"`nm.control.ControlGrid(spacing=1.0)`; got {type(control).__name__}."
            )
        for name, fix in _OWN.items():
            if name in simulate_kwargs:
                raise ValueError(f"`{name}=` is not a simulation argument here: {fix}.")
        for name in ("t1", "dt"):
            if name not in simulate_kwargs:
                raise ValueError(
                    f"Give the simulation's `{name}=` (ms), as to `nm.simulate`."
                )
        if background is not None and not isinstance(background, AbstractStimulus):
            raise TypeError(
                "`background` must be a stimulus of `nm.stimuli`; got "
                f"{type(background).__name__}."
            )
        net = _as_network(model)
        t0 = float(simulate_kwargs.get("t0", 0.0))
        layout = control.layout(
            net, t0, float(simulate_kwargs["t1"]), float(simulate_kwargs["dt"])
        )
        simulate_kwargs = dict(simulate_kwargs)
        if not net.has_delays and not (
            {"checkpoint", "stepsize_controller"} & simulate_kwargs.keys()
        ):
            # Without delays `simulate` would use `diffrax.diffeqsolve`, whose
            # default adjoint (RecursiveCheckpointAdjoint, Diffrax 0.7.2) returns
            # wrong gradients of `SaveAt(ts=...)` outputs for some save patterns
            # (e.g. a sample every step over 200 steps: 1.6 % off, one sample's
            # gradient zero). The fixed-step loop with `checkpoint=True` is exact.
            simulate_kwargs["checkpoint"] = True
        self.model = model
        self.cost = cost
        self.layout = layout
        self.keys = _as_keys(key)
        self.background = background
        self.simulate_kwargs = dict(simulate_kwargs)

    def __check_init__(self):
        # the targets against the simulation's shapes (traced, not run)
        one = None if self.keys is None else self.keys.reshape(-1)[0]
        solution = eqx.filter_eval_shape(
            lambda p, k: p.simulate(p.initial, k), self, one
        )
        for term in self.cost.precisions:
            term.check(solution)

    @property
    def initial(self) -> Float[Array, "K nodes vars"]:
        """The initial control samples, `(K, N, V)`."""
        return self.layout.stimulus.samples

    @property
    def times(self) -> Float[Array, " K"]:
        """The times of the control samples (ms)."""
        return self.layout.times

    def stimulus(self, samples: Float[Array, "K nodes vars"]) -> TimeSeriesStimulus:
        """The control with these samples (masked), a `TimeSeriesStimulus`."""
        return self.layout.with_samples(samples)

    def simulate(self, samples, key=None):
        """The simulation driven by the control `samples` (and the background)."""
        stim = self.stimulus(samples)
        if self.background is not None:
            stim = self.background + stim
        return simulate(self.model, stimulus=stim, key=key, **self.simulate_kwargs)

    def smooth(self, samples, keys=None) -> tuple[Float[Array, ""], dict]:
        """The differentiable part of the cost (precision terms and energy) and the
        unweighted value of every term (the sparsity's too, not in the total)."""
        keys = self.keys if keys is None else keys

        def precisions(key):
            sol = self.simulate(samples, key)
            return {t.name: t.value(sol) for t in self.cost.precisions}

        if keys is None or keys.ndim == 0:
            values = precisions(keys)
        else:
            values = jax.tree.map(
                lambda v: jnp.mean(v, axis=0), jax.vmap(precisions)(keys)
            )
        total = sum(t.weight * values[t.name] for t in self.cost.precisions)
        masked = jnp.where(self.layout.mask[None], samples, 0.0)
        energy, sparsity = self.cost.energy, self.cost.sparsity
        if energy is not None:
            values[energy.name] = energy.value(self.times, masked)
            total = total + energy.weight * values[energy.name]
        if sparsity is not None:
            values[sparsity.name] = sparsity.value(self.times, masked)
        values = {name: values[name] for name in self.cost.names}
        return jnp.asarray(total), values

    def evaluate(self, samples, keys=None) -> tuple[Float[Array, ""], dict]:
        """The whole cost $J(u)$ of the samples and the unweighted value of each
        term, `(total, {name: value})`."""
        total, values = self.smooth(samples, keys)
        sparsity = self.cost.sparsity
        if sparsity is not None:
            total = total + sparsity.weight * values[sparsity.name]
        return total, values

    def value(self, samples, keys=None) -> Float[Array, ""]:
        """The whole cost $J(u)$ (differentiable except at zeros of a sparsity
        term)."""
        return self.evaluate(samples, keys)[0]
