"""Simulation-based inference: simulation tables drawn from priors through
`nm.sweep`, and amortised posteriors trained with flowjax."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray, PyTree

from .._fit import AbstractConstraint
from ..sweeps import DistributionAxis, Space, sweep
from ._names import element_pattern, flat_columns
from ._prior import resolve_priors, sample_shape


_CONSTRAINTS = "neuromass.constraints"


def table_columns(table, name: str) -> list[str]:
    """The columns of `table` that hold `name`: `name` itself for a scalar, or
    `name[0]`, `name[1]`, ... for an array (in order)."""
    if name in table.columns:
        return [name]
    pattern = element_pattern(name)
    cols = [c for c in table.columns if isinstance(c, str) and pattern.match(c)]
    if not cols:
        raise ValueError(
            f"The table has no column `{name}` (nor `{name}[i]`); its columns are "
            f"{list(table.columns)[:12]}..."
        )
    return cols


def simulate_table(
    simulator: Callable[..., Mapping[str, Any]],
    model: PyTree,
    priors: Mapping[str, Any],
    n: int,
    *,
    key: PRNGKeyArray,
    constraints: Mapping[str, AbstractConstraint | None] | None = None,
    batch_size: int | None = None,
    store: str | None = None,
    executor: Any = None,
    progress: bool = True,
):
    r"""Simulate `n` parameter sets drawn from the priors: a table for
    simulation-based inference.

    Each row $l$ draws $\theta^{(l)} \sim p(\theta)$ from the priors (one
    `nm.DistributionAxis` per parameter, in a zip
    `nm.Space`), sets them in the model and calls
    `simulator(model, key=key_l)` for its features (e.g.
    `neuromass.inference.summary_features` of a noisy simulation). The points
    run through `nm.sweep`: vmapped chunks compiled once, over devices
    or a Dask cluster (`executor=`), and resumable from `store=` after an
    interruption.

    **Arguments:**

    - `simulator`: `simulator(model, key=...) -> dict` of feature arrays; traceable
        by JAX (it is vmapped).
    - `model`: the model whose parameters the priors name (paths as in a sweep).
    - `priors`: `{path: distribution}` as for `neuromass.inference.Posterior`
        (NumPyro distributions or sweep axes).
    - `n`: the number of simulations.
    - `key`: draws the parameters (`fold_in(key, 0)`) and the simulations' keys.
    - `constraints`: overrides of the constraints that follow each prior's support;
        they are kept in `table.attrs` for
        `neuromass.inference.train_posterior`.
    - `batch_size`, `store`, `executor`, `progress`: as for `nm.sweep`.

    **Returns:**

    A `pandas.DataFrame` with one row per simulation: the parameters (an array
    parameter `node.a` of shape `(N,)` becomes columns `node.a[0]`, ...,
    `node.a[N-1]`), the features (flattened the same way), and `status`
    (`"ok"`, `"nonfinite"`, `"error"`). `table.attrs` keeps the parameter names and
    constraints.

    !!! example

        ```python
        def simulator(net, key):
            sol = nm.simulate(net, t1=2000.0, dt=0.5, save_every=2.0,
                              transient=200.0, key=key)
            return nmi.summary_features(sol["x"], dt=2.0)

        table = nmi.simulate_table(simulator, net, priors, 2000,
                                   key=jax.random.key(1), store="runs/sbi")
        ```
    """
    import pandas as pd

    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"`n` must be an integer >= 1; got {n!r}.")
    if not callable(simulator):
        raise TypeError(
            f"`simulator` must be callable; got {type(simulator).__name__}."
        )
    names, dists, cons, shapes = resolve_priors(model, priors, constraints)
    k_draw, k_sim = jax.random.split(key)
    space = Space(
        {
            name: DistributionAxis(d, int(n), sample_shape=sample_shape(d, s))
            for name, d, s in zip(names, dists, shapes)
        },
        mode="zip",
        key=k_draw,
    )

    def fn(m, key):
        return dict(simulator(m, key=key))

    res = sweep(
        fn,
        space,
        model=model,
        key=k_sim,
        batch_size=batch_size,
        store=store,
        executor=executor,
        progress=progress,
        fingerprint="simulate_table:" + _name(simulator),
    )
    cols: dict[str, np.ndarray] = {}
    for name, s in zip(names, shapes):
        col = np.asarray(res.params[name])
        cols.update(flat_columns(name, np.broadcast_to(col, (len(res),) + s)))
    for name, col in res.outputs.items():
        if name in names:
            raise ValueError(
                f"The simulator returns a feature named `{name}`, which is also a "
                "parameter; rename the feature."
            )
        cols.update(flat_columns(name, np.asarray(col)))
    cols["status"] = np.asarray(res.status)
    table = pd.DataFrame(cols)
    table.attrs["neuromass.params"] = list(names)
    table.attrs[_CONSTRAINTS] = dict(zip(names, cons))
    return table


def _name(fn) -> str:
    """`module.qualname` of the simulator: names it in a sweep store's manifest."""
    target = fn if hasattr(fn, "__qualname__") else type(fn)
    return f"{getattr(target, '__module__', '?')}.{target.__qualname__}"


class AmortisedPosterior(eqx.Module):
    r"""An amortised posterior $q(\theta \mid x)$: a conditional normalising flow
    (flowjax) trained on a simulation table by neural posterior estimation.

    The flow models the standardised unconstrained coordinates
    $u = \mathrm{inverse}(\theta)$ (the constraints of `nm.fit`) given
    the standardised features $x$; samples are mapped back with
    $\theta = \mathrm{forward}(u)$, so they always lie in the prior's support.
    Once trained, a posterior for a new observation costs one pass of the flow:
    no simulation, no Markov chain, and independent draws.

    Build it with `neuromass.inference.train_posterior`.

    **Attributes:**

    - `flow`: the trained flowjax distribution (conditional on features).
    - `params`: `((name, columns), ...)` parameter names and their table columns.
    - `features`: the feature columns, in the order of the conditioning vector.
    - `losses`: the training and validation losses per epoch.
    """

    flow: Any
    params: tuple[tuple[str, tuple[str, ...]], ...] = eqx.field(static=True)
    features: tuple[str, ...] = eqx.field(static=True)
    constraints: tuple[AbstractConstraint | None, ...]
    x_mean: Array
    x_std: Array
    u_mean: Array
    u_std: Array
    losses: dict[str, np.ndarray]

    def _observed(self, observed) -> Array:
        if hasattr(observed, "columns"):  # a DataFrame
            arr = observed[list(self.features)].to_numpy(dtype=float)
        elif hasattr(observed, "index") and hasattr(observed, "to_numpy"):  # Series
            arr = observed[list(self.features)].to_numpy(dtype=float)
        elif isinstance(observed, Mapping):
            import pandas as pd

            flat: dict[str, np.ndarray] = {}
            for k, v in observed.items():
                v = np.asarray(v)
                flat.update(flat_columns(k, v[None]) if v.ndim else {k: v[None]})
            arr = pd.DataFrame(flat)[list(self.features)].to_numpy(dtype=float)[0]
        else:
            arr = np.asarray(observed, dtype=float)
        if arr.shape[-1] != len(self.features):
            raise ValueError(
                f"`observed` has {arr.shape[-1]} features; the posterior was trained "
                f"on {len(self.features)} ({list(self.features)[:6]}...)."
            )
        return jnp.asarray(arr, jnp.result_type(float))

    def sample(self, key: PRNGKeyArray, observed: Any, n: int) -> dict[str, np.ndarray]:
        """`n` independent posterior draws given observed features.

        **Arguments:**

        - `key`: a `jax.random` key.
        - `observed`: the features: a dict like the simulator's output, a table row
            (`pandas.Series`), a table (`DataFrame`, one posterior per row), or an
            array `(..., features)` in the order of `features`.
        - `n`: draws per observation.

        **Returns:**

        `{name: (..., n, *shape)}` parameter values; the leading axes are those of
        `observed` (none for a single observation).
        """
        x = self._observed(observed)
        batch = x.shape[:-1]
        lead = (1,) * (x.ndim - 1) + (-1,)  # explicit broadcasting over observations
        x_mean, x_std = self.x_mean.reshape(lead), self.x_std.reshape(lead)
        xs = ((x - x_mean) / x_std).reshape(-1, x.shape[-1])
        keys = jax.random.split(key, xs.shape[0])
        us = _sample_flow(self.flow, keys, xs, int(n))  # (observations, n, params)
        u = us * self.u_std.reshape(1, 1, -1) + self.u_mean.reshape(1, 1, -1)
        u = u.reshape(batch + (int(n), -1))
        out = {}
        j = 0
        for (name, cols), c in zip(self.params, self.constraints):
            part = u[..., j : j + len(cols)]
            j += len(cols)
            val = part if c is None else c.forward(part)
            out[name] = np.asarray(val[..., 0] if cols == (name,) else val)
        return out


@eqx.filter_jit
def _sample_flow(flow, keys, xs, n):
    with _flowjax_broadcasting():
        return jax.vmap(lambda k, c: flow.sample(k, (n,), condition=c))(keys, xs)


def _flowjax_broadcasting():
    """flowjax broadcasts arrays of different ranks (NumPy's rank promotion): allow
    it inside its calls even where the user's JAX refuses it
    (`jax_numpy_rank_promotion="raise"`, as neuromass's test suite sets)."""
    return jax.numpy_rank_promotion("allow")


def train_posterior(
    table,
    features: Sequence[str],
    *,
    key: PRNGKeyArray,
    params: Sequence[str] | None = None,
    constraints: Mapping[str, AbstractConstraint | None] | None = None,
    flow: str = "maf",
    transformer: str = "spline",
    flow_layers: int = 5,
    nn_width: int = 50,
    max_epochs: int = 200,
    max_patience: int = 10,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    progress: bool = True,
) -> AmortisedPosterior:
    r"""Train an amortised posterior on a simulation table (neural posterior
    estimation with a flowjax normalising flow).

    The rows with `status == "ok"` are the pairs $(\theta^{(l)}, x^{(l)})$ with
    $\theta^{(l)} \sim p(\theta)$; a conditional flow $q_\phi(u \mid x)$ on the
    unconstrained coordinates $u = \mathrm{inverse}(\theta)$ is fitted by maximum
    likelihood,

    $$\max_\phi \sum_l \log q_\phi\left(u^{(l)} \mid x^{(l)}\right),$$

    which makes $q_\phi(\theta \mid x)$ approach the posterior
    $p(\theta \mid x)$ for every $x$ (Papamakarios & Murray 2016), with early
    stopping on a held-out 10 %. The flow is flowjax's masked autoregressive flow
    (`flow="maf"`) or coupling flow (`flow="coupling"`) with rational-quadratic
    spline transformers; parameters and features are standardised first. To use the
    `sbi` package (PyTorch) instead, pass `table[params]` and `table[features]` as
    `theta` and `x` to its `NPE.append_simulations`.

    **Arguments:**

    - `table`: from `neuromass.inference.simulate_table` (or any DataFrame
        with parameter and feature columns).
    - `features`: the feature names to condition on (`"fc"` selects `fc[0]`,
        `fc[1]`, ...).
    - `key`: a `jax.random` key (initialisation and training batches).
    - `params`: the parameter names (default: all of the table's, from
        `table.attrs`).
    - `constraints`: `{name: constraint}` (default: those kept by
        `simulate_table`, else none).
    - `flow`, `transformer`, `flow_layers`, `nn_width`: the flow's architecture.
    - `max_epochs`, `max_patience`, `batch_size`, `learning_rate`: training
        (Adam).
    - `progress`: show flowjax's progress bar.

    **Returns:**

    An `neuromass.inference.AmortisedPosterior`.

    !!! example

        ```python
        q = nmi.train_posterior(table, ["fc", "peak_freq"], key=jax.random.key(2))
        draws = q.sample(jax.random.key(3), observed_features, 1000)
        ```
    """
    from flowjax.bijections import Affine, RationalQuadraticSpline
    from flowjax.distributions import Normal
    from flowjax.flows import coupling_flow, masked_autoregressive_flow
    from flowjax.train import fit_to_data

    if params is None:
        params = table.attrs.get("neuromass.params")
        if params is None:
            raise ValueError(
                "`params` is needed: the table does not come from `simulate_table`."
            )
    if isinstance(features, str):
        features = [features]
    if flow not in ("maf", "coupling"):
        raise ValueError(f'`flow` must be "maf" or "coupling"; got {flow!r}.')
    if transformer not in ("spline", "affine"):
        raise ValueError(
            f'`transformer` must be "spline" or "affine"; got {transformer!r}.'
        )
    kept = dict(table.attrs.get(_CONSTRAINTS, {}))
    kept.update(constraints or {})
    rows = table[table["status"] == "ok"] if "status" in table.columns else table
    if len(rows) < 10:
        raise ValueError(
            f"Only {len(rows)} finite simulations in the table; NPE needs many more "
            "(hundreds to thousands)."
        )
    pcols = tuple((p, tuple(table_columns(table, p))) for p in params)
    fcols = tuple(c for f in features for c in table_columns(table, f))
    dtype = jnp.result_type(float)
    us, cons = [], []
    for p, cols in pcols:
        c = kept.get(p)
        v = jnp.asarray(rows[list(cols)].to_numpy(dtype=float), dtype)
        us.append(v if c is None else c.inverse(v))
        cons.append(c)
    u = jnp.concatenate(us, axis=1)
    x = jnp.asarray(rows[list(fcols)].to_numpy(dtype=float), dtype)
    if not bool(jnp.all(jnp.isfinite(u))):
        raise ValueError(
            "Some parameters lie on or outside their constraint's bounds; check "
            "`constraints`."
        )
    u_mean, u_std = u.mean(0), u.std(0) + 1e-8
    x_mean, x_std = x.mean(0), x.std(0) + 1e-8
    k_init, k_fit = jax.random.split(key)
    build = masked_autoregressive_flow if flow == "maf" else coupling_flow
    dim = u.shape[1]
    with _flowjax_broadcasting():
        q = build(
            k_init,
            base_dist=Normal(jnp.zeros(dim, dtype)),
            transformer=(
                RationalQuadraticSpline(knots=8, interval=4.0)
                if transformer == "spline"
                else Affine()
            ),
            cond_dim=x.shape[1],
            flow_layers=flow_layers,
            nn_width=nn_width,
        )
        q, losses = fit_to_data(
            k_fit,
            q,
            ((u - u_mean) / u_std, (x - x_mean) / x_std),
            max_epochs=max_epochs,
            max_patience=max_patience,
            batch_size=batch_size,
            learning_rate=learning_rate,
            show_progress=progress,
        )
    return AmortisedPosterior(
        flow=q,
        params=pcols,
        features=fcols,
        constraints=tuple(cons),
        x_mean=x_mean,
        x_std=x_std,
        u_mean=u_mean,
        u_std=u_std,
        losses={k: np.asarray(v) for k, v in losses.items()},
    )
