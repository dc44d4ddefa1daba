"""`nuts()`: the No-U-Turn sampler (NumPyro) on a `Posterior`, and its samples."""

import time
import warnings
from typing import Any

import equinox as eqx
import jax
import numpy as np
from jaxtyping import PRNGKeyArray

from ._names import flat_names
from ._posterior import Posterior


class PosteriorSamples(eqx.Module):
    r"""Draws from a posterior, by chain, with the sampler's statistics.

    **Attributes:**

    - `samples`: `{path: (chains, draws, *shape)}` parameter values (constrained).
    - `stats`: `{name: (chains, draws)}` sampler statistics: `"lp"` (the
        log-density of the unconstrained coordinates), `"diverging"`,
        `"num_steps"` (leapfrog steps), `"accept_prob"`, `"step_size"`.
    - `seconds`: wall-clock time of the sampling call (warm-up and draws).

    `r_hat()` is the split-$\hat R$ (Gelman-Rubin) and `ess()` the bulk effective
    sample size of each element (computed by NumPyro's diagnostics, as ArviZ does);
    `summary()` tabulates them with the mean, standard deviation and 90 % interval,
    and `to_arviz()` exports an `arviz.InferenceData`.
    """

    samples: dict[str, np.ndarray]
    stats: dict[str, np.ndarray]
    seconds: float

    @property
    def num_chains(self) -> int:
        """The number of chains."""
        return int(next(iter(self.samples.values())).shape[0])

    @property
    def num_draws(self) -> int:
        """The number of draws per chain."""
        return int(next(iter(self.samples.values())).shape[1])

    def flat(self, name: str) -> np.ndarray:
        """The draws of `name` with the chains concatenated, `(chains * draws,
        *shape)`."""
        x = self.samples[name]
        return x.reshape((-1,) + x.shape[2:])

    def interval(self, name: str, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """The central posterior interval of probability `level` of each element."""
        q = (1.0 - level) / 2.0
        x = self.flat(name)
        return np.quantile(x, q, axis=0), np.quantile(x, 1.0 - q, axis=0)

    def r_hat(self) -> dict[str, np.ndarray]:
        """Split-$\\hat R$ of every parameter element (needs >= 2 chains or >= 4
        draws); values above about 1.01 flag chains that have not mixed."""
        from numpyro.diagnostics import split_gelman_rubin

        return {n: np.asarray(split_gelman_rubin(x)) for n, x in self.samples.items()}

    def ess(self) -> dict[str, np.ndarray]:
        """Effective sample size of every parameter element, over all chains."""
        from numpyro.diagnostics import effective_sample_size

        return {
            n: np.asarray(effective_sample_size(np.asarray(x, dtype=np.float64)))
            for n, x in self.samples.items()
        }

    def summary(self, level: float = 0.9):
        """A `pandas.DataFrame` with one row per parameter element: `mean`, `sd`,
        the `level` interval (`low`, `high`), `ess`, `r_hat`."""
        import pandas as pd

        rhat, ess = self.r_hat(), self.ess()
        rows = []
        for n, x in self.samples.items():
            flat = self.flat(n)
            lo, hi = self.interval(n, level)
            shape = x.shape[2:]
            for j, label in enumerate(flat_names(n, shape)):
                idx = np.unravel_index(j, shape) if shape else ()
                rows.append(
                    dict(
                        param=label,
                        mean=float(flat.mean(axis=0)[idx]),
                        sd=float(flat.std(axis=0)[idx]),
                        low=float(np.asarray(lo)[idx]),
                        high=float(np.asarray(hi)[idx]),
                        ess=float(ess[n][idx]),
                        r_hat=float(rhat[n][idx]),
                    )
                )
        return pd.DataFrame(rows).set_index("param")

    def ess_per_second(self) -> float:
        """The smallest effective sample size over all parameter elements, divided
        by the sampling time (warm-up included)."""
        return float(min(np.min(v) for v in self.ess().values()) / self.seconds)

    def to_arviz(self):
        """The draws as an `arviz.InferenceData` (groups `posterior` and
        `sample_stats`; parameter paths are the variable names)."""
        with warnings.catch_warnings():  # ArviZ announces its refactor on import
            warnings.simplefilter("ignore", FutureWarning)
            import arviz as az

        stats = {
            {"lp": "lp", "diverging": "diverging", "num_steps": "n_steps"}.get(k, k): v
            for k, v in self.stats.items()
        }
        return az.from_dict(posterior=dict(self.samples), sample_stats=stats)


def nuts(
    posterior: Posterior,
    key: PRNGKeyArray,
    *,
    num_warmup: int = 500,
    num_samples: int = 500,
    num_chains: int = 4,
    init: str | dict[str, Any] = "model",
    init_scale: float = 0.1,
    target_accept_prob: float = 0.8,
    max_tree_depth: int = 10,
    dense_mass: bool = False,
    progress: bool = True,
) -> PosteriorSamples:
    r"""Sample a `neuromass.inference.Posterior` with the No-U-Turn sampler.

    NUTS (Hoffman & Gelman 2014) from NumPyro runs on the unconstrained coordinates
    $u$ with the gradient of `posterior.log_density` (reverse-mode AD through the
    simulation). The warm-up adapts the step size (dual averaging, towards
    `target_accept_prob`) and a diagonal (or dense) mass matrix; its draws are
    discarded. The chains run together, vectorised with `jax.vmap`, in one
    compiled program.

    **Arguments:**

    - `posterior`: the posterior to sample.
    - `key`: a `jax.random` key.
    - `num_warmup`, `num_samples`: warm-up and kept draws per chain.
    - `num_chains`: independent chains (>= 2 for $\hat R$; 4 is customary).
    - `init`: where the chains start: `"model"` (the model's current values, each
        chain jittered by `init_scale` standard deviations in unconstrained
        coordinates), `"prior"` (independent prior draws: overdispersed starts,
        the most honest $\hat R$, but slower warm-up on multimodal likelihoods),
        or a dict `{path: value}` (jittered like `"model"`).
    - `init_scale`: the jitter of the starting points.
    - `target_accept_prob`, `max_tree_depth`, `dense_mass`: passed to NumPyro's
        `NUTS`.
    - `progress`: show NumPyro's progress bar.

    **Returns:**

    A `neuromass.inference.PosteriorSamples`.

    !!! example

        ```python
        samples = nmi.nuts(post, jax.random.key(0), num_warmup=300, num_samples=300)
        print(samples.summary())      # mean, sd, 90% interval, ess, r_hat
        idata = samples.to_arviz()    # for arviz.plot_pair, az.summary, ...
        ```
    """
    from numpyro.infer import MCMC, NUTS

    if not isinstance(posterior, Posterior):
        raise TypeError(
            "`posterior` must be an `nm.inference.Posterior`; got "
            f"{type(posterior).__name__}."
        )
    for name, v, lo in (
        ("num_warmup", num_warmup, 0),
        ("num_samples", num_samples, 1),
        ("num_chains", num_chains, 1),
    ):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
            raise ValueError(f"`{name}` must be an integer >= {lo}; got {v!r}.")
    k_init, k_run = jax.random.split(key)
    if isinstance(init, str) and init == "prior":
        start = posterior.sample_prior(k_init, num_chains)
        u0 = jax.vmap(posterior.unconstrain)(start)
    else:
        if isinstance(init, str):
            if init != "model":
                raise ValueError(
                    f'`init` must be "model", "prior" or a dict; got {init!r}.'
                )
            values = posterior.initial_values()
        else:
            values = {**posterior.initial_values(), **dict(init)}
        for n, c in zip(posterior.names, posterior.constraints):
            why = None if c is None else c.violation(np.asarray(values[n]))
            if why is not None:
                raise ValueError(
                    f"The initial value of `{n}` is outside its prior's support "
                    f"({c!r}): {why}. Set it in the model or pass `init=`."
                )
        centre = posterior.unconstrain(values)
        keys = jax.random.split(k_init, len(posterior.names))
        u0 = {
            n: centre[n][None]  # one row per chain
            + init_scale * jax.random.normal(kk, (num_chains,) + centre[n].shape)
            for kk, n in zip(keys, posterior.names)
        }

    def potential(u):
        return -posterior.log_density(u)

    kernel = NUTS(
        potential_fn=potential,
        target_accept_prob=target_accept_prob,
        max_tree_depth=max_tree_depth,
        dense_mass=dense_mass,
    )
    mcmc = MCMC(
        kernel,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method="vectorized",
        progress_bar=progress,
    )
    t0 = time.perf_counter()
    if num_chains == 1:  # NumPyro takes a single chain's start without a chain axis
        u0 = {n: v[0] for n, v in u0.items()}
    mcmc.run(
        k_run,
        init_params=u0,
        extra_fields=("potential_energy", "diverging", "num_steps", "accept_prob"),
    )
    u = mcmc.get_samples(group_by_chain=True)
    jax.block_until_ready(u)
    seconds = time.perf_counter() - t0
    values = jax.vmap(jax.vmap(posterior.constrain))(u)
    extra = mcmc.get_extra_fields(group_by_chain=True)
    stats = {
        "lp": -np.asarray(extra["potential_energy"]),
        "diverging": np.asarray(extra["diverging"]),
        "num_steps": np.asarray(extra["num_steps"]),
        "accept_prob": np.asarray(extra["accept_prob"]),
    }
    n_div = int(stats["diverging"].sum())
    if n_div:
        warnings.warn(
            f"`nuts`: {n_div} divergent transitions after warm-up; the intervals may "
            "be biased. Raise `target_accept_prob` (e.g. 0.95) or reparametrise.",
            RuntimeWarning,
            stacklevel=2,
        )
    return PosteriorSamples(
        samples={n: np.asarray(v) for n, v in values.items()},
        stats=stats,
        seconds=float(seconds),
    )
