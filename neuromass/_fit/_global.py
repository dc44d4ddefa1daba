"""Gradient-free global search: strategies (CMA-ES) whose every generation is one
vectorised sweep call."""

import abc
import math
import os
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from ..sweeps._executors import AbstractExecution
from ._engine import (
    check_engine_args,
    fingerprint,
    point_space,
    point_theta,
    run_sweep,
    wrap_key,
)
from ._problem import Problem, check_scalar_loss
from ._trace import GlobalTrace


_EVOSAX_HINT = 'pip install "neuromass[fit]"  (or: pip install evosax)'


class AbstractGlobalStrategy(eqx.Module):
    """Base class of the gradient-free search strategies of `neuromass.fit`
    (`strategy=...`).

    A strategy proposes a population of candidates per generation, in the
    unconstrained coordinates of the fit (every candidate is valid, see
    `neuromass.CMAES`), learns from their losses, and proposes the next. `fit`
    evaluates each generation's population in one vectorised
    `neuromass.sweep` call. Subclasses declare `population_size` and
    `generations` and implement:

    - `init(mean, key) -> state`: the search state, around the flat start `mean`.
    - `ask(state, key) -> (population, state)`: a `(population_size, d)` array.
    - `tell(state, population, losses) -> state`: learn from the `(population_size,)`
        losses (non-finite losses arrive as `+inf`).
    - `mean(state)` and `stddev(state)`: the distribution's centre `(d,)` and its
        spread (the root mean square of its standard deviations over the
        coordinates), recorded in the trace.

    All of them run on the host between generations.

    !!! example

        A (1+λ)-style random search that recentres on the best candidate and
        shrinks its step size by a factor 0.7 every generation:

        ```python
        import equinox as eqx
        import jax
        import jax.numpy as jnp
        import neuromass as nm


        class RandomSearch(nm.AbstractGlobalStrategy):
            population_size: int = eqx.field(default=16, static=True)
            generations: int = eqx.field(default=10, static=True)
            sigma: float = 1.0

            def init(self, mean, key):
                return mean, self.sigma

            def ask(self, state, key):
                mean, sigma = state
                noise = jax.random.normal(key, (self.population_size, mean.size))
                return mean + sigma * noise, state

            def tell(self, state, population, losses):
                return population[jnp.argmin(losses)], 0.7 * state[1]

            def mean(self, state):
                return state[0]

            def stddev(self, state):
                return float(state[1])


        fitted, trace = nm.fit({"x": jnp.array([2.0, -1.0])},
                               lambda m: jnp.sum(m["x"] ** 2),
                               params=lambda m: m["x"], strategy=RandomSearch())
        ```
    """

    population_size: eqx.AbstractVar[int]
    generations: eqx.AbstractVar[int]

    @abc.abstractmethod
    def init(self, mean: Float[Array, " d"], key: PRNGKeyArray) -> Any:
        """The initial search state around `mean`."""

    @abc.abstractmethod
    def ask(self, state: Any, key: PRNGKeyArray) -> tuple[Float[Array, "p d"], Any]:
        """The next population and the updated state."""

    @abc.abstractmethod
    def tell(
        self, state: Any, population: Float[Array, "p d"], losses: Float[Array, " p"]
    ) -> Any:
        """The state updated with the losses of `population`."""

    @abc.abstractmethod
    def mean(self, state: Any) -> Float[Array, " d"]:
        """The centre of the search distribution."""

    @abc.abstractmethod
    def stddev(self, state: Any) -> float:
        """The overall scale of the search distribution."""


def _check_int(cls: str, name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(
            f"`{cls}({name}=...)` must be an integer >= {minimum}; got {value!r}."
        )
    if value < minimum:
        raise ValueError(
            f"`{cls}({name}=...)` must be an integer >= {minimum}; got {value}."
        )


class CMAES(AbstractGlobalStrategy):
    r"""Covariance matrix adaptation evolution strategy (CMA-ES), a gradient-free
    global search for `neuromass.fit`, from [evosax](https://github.com/RobertTLange/evosax).

    Each generation samples `population_size` candidates from a Gaussian
    $\mathcal{N}(m, \sigma^2 C)$, evaluates them (one vectorised sweep call), and
    moves the mean $m$ towards the best half, adapting the step size $\sigma$ and
    the covariance $C$ to the landscape. It uses only the ranks of the losses,
    so it is indifferent to their scale and robust to small-scale ruggedness
    (a washboard) that misleads gradients, and it needs no gradient at all.

    **Constraints are honoured by searching the unconstrained coordinates** of the
    fit: a candidate $u$ is the model's parameter $x = \mathrm{forward}(u)$ of its
    constraint (logit of the position inside a `neuromass.Bounded` interval,
    inverse softplus for `neuromass.Positive`, the value itself without a
    constraint). Every candidate is valid, nothing is clipped or penalised, and the
    gradient refinement of a hybrid fit continues in the same coordinates. So
    `sigma` is in those coordinates: for a `Bounded` parameter, $\sigma = 1$
    around the middle spans about half of the interval, and steps shrink in the
    parameter's units near a bound; for a small `Positive` parameter it is a
    relative change ($u \approx \log x$); for an unconstrained one it is in the
    parameter's units, so give it a `Bounded` constraint or a suitable `sigma`.

    The search starts at the model's values. Non-finite losses rank last.

    **Arguments:**

    - `population_size`: candidates per generation, `>= 2` (default 16: one
        compiled call of the sweep's default 16 lanes on a CPU). CMA-ES's own
        default, $4 + \lfloor 3 \ln d \rfloor$ for $d$ numbers, is smaller; larger
        populations search more globally.
    - `generations`: number of generations, `>= 1`; the budget is
        `population_size * generations` loss evaluations.
    - `sigma`: initial step size in unconstrained coordinates, `> 0`.

    !!! example

        ```python
        fitted, trace = nm.fit(net, loss, params=lambda n: n.k,
                               constraints={lambda n: n.k: nm.Bounded(0.0, 0.3)},
                               strategy=nm.CMAES(population_size=8, generations=10))
        ```

    ??? cite "Reference"

        ```bibtex
        @article{hansen2016cma,
          title={The {CMA} evolution strategy: a tutorial},
          author={Hansen, Nikolaus},
          journal={arXiv preprint arXiv:1604.00772},
          year={2016}
        }
        @inproceedings{lange2023evosax,
          title={evosax: {JAX}-based evolution strategies},
          author={Lange, Robert Tjarko},
          booktitle={Proceedings of the Companion Conference on Genetic and
                     Evolutionary Computation},
          pages={659--662},
          year={2023}
        }
        ```
    """

    population_size: int = eqx.field(default=16, static=True)
    generations: int = eqx.field(default=20, static=True)
    sigma: float = eqx.field(default=1.0, static=True)

    def __check_init__(self):
        _check_int("CMAES", "population_size", self.population_size, 2)
        _check_int("CMAES", "generations", self.generations, 1)
        sigma = self.sigma
        if isinstance(sigma, bool) or not isinstance(sigma, int | float | np.floating):
            raise ValueError(f"`CMAES(sigma=...)` must be a number > 0; got {sigma!r}.")
        if not (math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"`CMAES(sigma=...)` must be finite and > 0; got {sigma}.")

    def init(self, mean, key):
        try:
            from evosax.algorithms.distribution_based.cma_es import CMA_ES
        except ImportError as e:
            raise ImportError(
                f"`nm.CMAES` needs evosax, which is not installed: {_EVOSAX_HINT}"
            ) from e
        mean = jnp.asarray(mean)
        es = CMA_ES(population_size=int(self.population_size), solution=mean)
        params = es.default_params.replace(
            std_init=jnp.asarray(self.sigma, dtype=mean.dtype)
        )
        with jax.numpy_rank_promotion("allow"):  # evosax's code promotes ranks
            return es, params, es.init(key, mean, params)

    def ask(self, state, key):
        es, params, st = state
        with jax.numpy_rank_promotion("allow"):
            population, st = es.ask(key, st, params)
        return population, (es, params, st)

    def tell(self, state, population, losses):
        es, params, st = state
        # evosax's `tell` takes a key for metrics only; CMA-ES's update is
        # deterministic given the population and its losses.
        with jax.numpy_rank_promotion("allow"):
            st, _ = es.tell(jax.random.key(0), population, losses, st, params)
        return es, params, st

    def mean(self, state):
        return state[2].mean

    def stddev(self, state):
        st = state[2]
        return float(st.std * jnp.sqrt(jnp.mean(jnp.diag(st.C))))


CMAES.__init__.__doc__ = """**Arguments:**

- `population_size`: candidates per generation (>= 2), default 16.
- `generations`: number of generations (>= 1), default 20.
- `sigma`: initial step size in the fit's unconstrained coordinates, default 1.0.
"""


# ------------------------------------------------------------------------- runner
def _flatten(problem: Problem, theta) -> jax.Array:
    return jnp.concatenate([jnp.ravel(u) for u in theta])


def _unflatten(problem: Problem, flat: np.ndarray) -> list[np.ndarray]:
    """`(p, d)` flat candidates -> per trained leaf `(p, *shape)`."""
    out, at = [], 0
    for shape, dtype in zip(problem.shapes, problem.dtypes):
        size = int(np.prod(shape))
        part = flat[:, at : at + size].reshape((flat.shape[0],) + shape)
        out.append(np.asarray(part, dtype=dtype))
        at += size
    return out


def make_evaluator(problem: Problem, loss: Callable, use_key: bool) -> Callable:
    """The sweep function of a generation: the loss at one unconstrained point."""

    def evaluate(point):
        m = problem.build(point["frozen"], problem.to_constrained(point_theta(point)))
        value = loss(m, wrap_key(point["key"])) if use_key else loss(m)
        return {"loss": check_scalar_loss(value)}

    return evaluate


def run_global(
    problem: Problem,
    loss: Callable,
    strategy: AbstractGlobalStrategy,
    *,
    key: PRNGKeyArray | None,
    search_key: PRNGKeyArray,
    executor: AbstractExecution | None,
    store: str | os.PathLike | None,
    lanes: int | None,
    progress: bool,
) -> tuple[GlobalTrace, list[np.ndarray]]:
    """Run the strategy; its trace and every candidate (unconstrained, per leaf
    `(generations * population, *shape)`) in evaluation order."""
    pop_size = int(strategy.population_size)
    lanes = check_engine_args(executor, lanes, pop_size)
    use_key = key is not None
    evaluate = make_evaluator(problem, loss, use_key)
    fp = fingerprint(
        "global",
        problem,
        loss,
        strategy=repr(strategy),
        search_key=search_key_hex(search_key),
    )
    state = strategy.init(
        _flatten(problem, problem.theta0), jax.random.fold_in(search_key, 1)
    )
    losses, candidates, means, sigmas = [], [], [], []
    from tqdm.auto import tqdm

    bar = tqdm(
        total=int(strategy.generations),
        disable=not progress,
        desc="fit (global)",
        unit="gen",
        dynamic_ncols=True,
    )
    best = math.inf
    try:
        for g in range(int(strategy.generations)):
            means.append(np.asarray(strategy.mean(state)))
            sigmas.append(strategy.stddev(state))
            population, state = strategy.ask(
                state, jax.random.fold_in(jax.random.fold_in(search_key, 2), g)
            )
            population = np.asarray(population)
            u = _unflatten(problem, population)
            gen_key = None if key is None else jax.random.fold_in(key, g)
            result = run_sweep(
                evaluate,
                point_space(problem, u, gen_key),
                executor=executor,
                store=None if store is None else os.path.join(store, f"global-{g:04d}"),
                lanes=lanes,
                progress=False,
                fingerprint=fp + f"; generation={g}",
            )
            value = np.asarray(result.outputs["loss"], dtype=float)
            state = strategy.tell(
                state,
                jnp.asarray(population),
                jnp.asarray(np.where(np.isfinite(value), value, np.inf)),
            )
            losses.append(value)
            candidates.append(u)
            finite = value[np.isfinite(value)]
            if finite.size:
                best = min(best, float(finite.min()))
            bar.set_postfix(
                best=f"{best:.4g}", sigma=f"{sigmas[-1]:.3g}", refresh=False
            )
            bar.update(1)
    finally:
        bar.close()
    loss_arr = np.stack(losses)  # (G, P)
    per_leaf = [np.stack([c[j] for c in candidates]) for j in range(len(problem.train))]
    # constrained values of every candidate and of the means
    xs = [
        np.asarray(x)
        for x in problem.to_constrained(tuple(jnp.asarray(v) for v in per_leaf))
    ]
    mean_u = _unflatten(problem, np.stack(means))
    mean_x = [
        np.asarray(x)
        for x in problem.to_constrained(tuple(jnp.asarray(v) for v in mean_u))
    ]
    ranked = np.where(np.isfinite(loss_arr), loss_arr, np.inf)
    if np.isfinite(ranked).any():
        bg, bi = np.unravel_index(np.argmin(ranked), ranked.shape)
        bg, bi = int(bg), int(bi)
        best_loss = float(loss_arr[bg, bi])
    else:
        bg = bi = -1
        best_loss = math.nan
    trace = GlobalTrace(
        loss=loss_arr,
        params=problem.record(xs),
        mean=problem.record(mean_x),
        sigma=np.asarray(sigmas, dtype=float),
        best_generation=bg,
        best_index=bi,
        best_loss=best_loss,
        template=problem.build(problem.frozen, problem.to_constrained(problem.theta0)),
    )
    flat = [v.reshape((-1,) + v.shape[2:]) for v in per_leaf]
    return trace, flat


def search_key_hex(key: PRNGKeyArray) -> str:
    data = np.asarray(jax.random.key_data(key))
    return data.tobytes().hex()


def best_candidates(
    trace: GlobalTrace, flat_u: list[np.ndarray], n: int, problem: Problem
) -> list[np.ndarray]:
    """The constrained values of the `n` lowest-loss distinct candidates (finite
    losses first), as `(n, *shape)` per trained leaf."""
    order = np.argsort(
        np.where(np.isfinite(trace.loss), trace.loss, np.inf).ravel(), kind="stable"
    )
    chosen: list[int] = []
    seen: set[bytes] = set()
    for i in order:
        fingerprint_ = b"".join(np.asarray(u[i]).tobytes() for u in flat_u)
        if fingerprint_ in seen:
            continue
        seen.add(fingerprint_)
        chosen.append(int(i))
        if len(chosen) == n:
            break
    u = [v[chosen] for v in flat_u]
    return [
        np.asarray(x) for x in problem.to_constrained(tuple(jnp.asarray(v) for v in u))
    ]


def best_model(trace: GlobalTrace, problem: Problem) -> PyTree:
    if trace.best_generation < 0:
        return problem.build(problem.frozen, problem.to_constrained(problem.theta0))
    return trace.model_at(trace.best_generation, trace.best_index)
