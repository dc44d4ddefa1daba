"""neuromass.inference: NUTS posteriors checked against conjugate/analytic results
and quadrature, SBI checked against a conjugate posterior and by SBC."""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest

import neuromass as nm
import neuromass.inference as nmi


def _two_region_net(**kw):
    w = np.array([[0.0, 1.0], [1.0, 0.0]])
    return nm.Network(
        nm.models.Hopf(a=jnp.array([0.1, -0.1])),
        w,
        lengths=20.0 * w,
        speed=5.0,
        coupling="diffusive",
        k=0.2,
        coupled_vars=("x", "y"),
        **kw,
    )


# ---------------------------------------------------------------------------- NUTS
@pytest.mark.slow
def test_nuts_against_quadrature_conjugate_and_prior():
    """One NUTS run on a 3-region delayed Hopf network, three parameters with known
    posteriors (they are independent by construction):

    - `k` (LogNormal prior, sampled through `Positive`): the simulation observed
      with noise; checked against numerical quadrature of the same density on a
      grid in k itself, so the constraint's Jacobian must be right, and the true
      k lies in the 90 % interval;
    - `node.a` (3,): a conjugate normal mean (an extra Gaussian term; the
      simulation uses fixed a), exact posterior known;
    - `speed` (a sweep axis as prior, Uniform, sampled through `Bounded`): absent
      from the likelihood (the simulation uses a fixed speed), so its posterior is
      the prior: mean 5, sd 6/sqrt(12), 5 % and 95 % quantiles 2.3 and 7.7.
    """
    rng = np.random.default_rng(3)
    w = rng.uniform(0.3, 1.0, (3, 3))
    lengths = rng.uniform(10.0, 30.0, (3, 3))
    net = nm.Network(
        nm.models.Hopf(a=jnp.full(3, -0.05), omega=jnp.array([0.25, 0.3, 0.35])),
        w,
        lengths=lengths,
        speed=5.0,
        coupling="diffusive",
        k=0.3,
        coupled_vars=("x", "y"),
    )
    y0 = {"x": jnp.array([0.5, 0.2, -0.3]), "y": jnp.array([0.1, -0.4, 0.3])}

    def simulate_x(n):  # depends on k only: a and speed held at the truth
        n = eqx.tree_at(lambda m: (m.node.a, m.speed), n, (net.node.a, net.speed))
        return nm.simulate(n, t1=40.0, dt=0.5, save_every=2.0, y0=y0)["x"]

    sigma, sigma_a, s0 = 0.05, 0.1, 0.2
    data = simulate_x(net) + sigma * jax.random.normal(jax.random.key(4), (21, 3))
    y_a = rng.normal(0.05, sigma_a, (5, 3)) + np.array([0.0, -0.1, 0.1])
    lik_x = nmi.GaussianTimeSeries(data, simulate_x, sigma)
    lik_a = nmi.GaussianTimeSeries(
        y_a, lambda n: jnp.broadcast_to(n.node.a, (5, 3)), sigma_a
    )
    post = nmi.Posterior(
        eqx.tree_at(lambda n: n.k, net, 0.5),  # start away from the truth
        {
            "k": dist.LogNormal(np.log(0.4), 0.5),
            "node.a": dist.Normal(0.0, s0),
            "speed": nm.UniformAxis(2.0, 8.0, n=1),
        },
        lambda n: lik_x(n) + lik_a(n),
    )
    assert isinstance(post.constraints[0], nm.Positive)
    assert isinstance(post.constraints[2], nm.Bounded)
    s = nmi.nuts(
        post,
        jax.random.key(5),
        num_warmup=150,
        num_samples=250,
        num_chains=2,
        progress=False,
    )
    ess = s.ess()
    assert all(np.all(v > 150) for v in ess.values())
    assert all(np.all(v < 1.03) for v in s.r_hat().values())

    # k against quadrature of prior x likelihood on a grid
    grid = jnp.linspace(0.01, 1.2, 240)
    logp = jax.jit(
        jax.vmap(
            lambda k: (
                post.priors[0].log_prob(k) + lik_x(nm.apply_point(post.model, {"k": k}))
            )
        )
    )(grid)
    p = np.exp(np.asarray(logp) - np.max(logp))
    p /= np.trapezoid(p, grid)
    k_mean = np.trapezoid(grid * p, grid)
    k_sd = np.sqrt(np.trapezoid((grid - k_mean) ** 2 * p, grid))
    lo, hi = s.interval("k", 0.9)
    assert lo < 0.3 < hi

    prec = 1 / s0**2 + 5 / sigma_a**2
    exact = {
        "k": (k_mean, k_sd),
        "node.a": ((y_a.sum(0) / sigma_a**2) / prec, np.full(3, prec**-0.5)),
        "speed": (5.0, 6.0 / np.sqrt(12.0)),
    }
    for name, (mean, sd) in exact.items():
        x = s.flat(name)
        se = sd / np.sqrt(ess[name])
        np.testing.assert_array_less(np.abs(x.mean(0) - mean), 4 * se + 1e-6)
        np.testing.assert_allclose(x.std(0), sd, rtol=0.25)
    assert 2.0 <= s.flat("speed").min() and s.flat("speed").max() <= 8.0
    np.testing.assert_allclose(s.interval("speed"), [2.3, 7.7], atol=0.5)

    table = s.summary()
    assert list(table.index) == ["k", "node.a[0]", "node.a[1]", "node.a[2]", "speed"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az

    idata = s.to_arviz()
    assert idata.posterior["node.a"].shape == (2, 250, 3)
    ess_az = float(az.ess(idata, var_names=["k"], method="mean")["k"])
    np.testing.assert_allclose(ess_az, table.loc["k", "ess"], rtol=0.02)
    rhat_az = float(az.rhat(idata, var_names=["k"])["k"])
    np.testing.assert_allclose(rhat_az, table.loc["k", "r_hat"], atol=0.02)


def test_posterior_errors():
    net = _two_region_net()
    with pytest.raises(ValueError, match="node.b"):
        nmi.Posterior(net, {"node.b": dist.Normal(0.0, 1.0)}, None)
    with pytest.raises(ValueError, match="no matching constraint"):
        nmi.Posterior(net, {"k": dist.Poisson(1.0)}, None)
    with pytest.raises(ValueError, match="have no prior"):
        nmi.Posterior(net, {"k": dist.Normal(0.0, 1.0)}, None, constraints={"s": None})
    with pytest.raises(TypeError, match="NumPyro distribution"):
        nmi.Posterior(net, {"k": 1.0}, None)
    post = nmi.Posterior(net, {"k": dist.Uniform(0.5, 1.0)}, None)
    with pytest.raises(ValueError, match="outside its prior's support"):
        nmi.nuts(post, jax.random.key(0), progress=False)  # k = 0.2 in the model


def test_likelihoods_against_scipy():
    """Both likelihoods are exact Gaussian log-densities (normalisation included),
    the FC one on the Fisher-transformed upper triangle."""
    from scipy.stats import norm

    rng = np.random.default_rng(2)
    x_sim = rng.normal(size=(60, 4))
    x_obs = x_sim + 0.3 * rng.normal(size=(60, 4))
    lik = nmi.GaussianTimeSeries(x_obs, lambda m: m, sigma=0.2)
    ref = norm.logpdf(x_obs, loc=x_sim, scale=0.2).sum()
    np.testing.assert_allclose(lik(jnp.asarray(x_sim)), ref, rtol=1e-5)

    iu = np.triu_indices(4, 1)
    fc_obs = np.corrcoef(x_obs.T)
    lik = nmi.GaussianFC(fc_obs, lambda m: m, sigma=0.1)
    z_obs, z_sim = np.arctanh(fc_obs[iu]), np.arctanh(np.corrcoef(x_sim.T)[iu])
    ref = norm.logpdf(z_obs, loc=z_sim, scale=0.1).sum()
    np.testing.assert_allclose(lik(jnp.asarray(x_sim)), ref, rtol=1e-4)
    with pytest.raises(ValueError, match="region counts must match"):
        lik(jnp.asarray(x_sim[:, :3]))
    with pytest.raises(ValueError, match="`sigma` must be > 0"):
        nmi.GaussianFC(fc_obs, lambda m: m, sigma=0.0)


# ------------------------------------------------------------------------ SBI
@pytest.mark.slow
def test_sbi_conjugate_posterior_and_sbc():
    """NPE through `simulate_table` (sweep) and flowjax on a problem with a known
    posterior: log k ~ N(m0, s0), features y_i = log k + N(0, s) (i = 1..3).
    The flow's posterior matches the analytic one, and SBC ranks over 150 held-out
    datasets are uniform with 90 % intervals covering ~90 %."""
    net = _two_region_net()
    m0, s0, s = np.log(0.3), 0.4, 0.2

    def simulator(n, key):
        return {"y": jnp.log(n.k) + s * jax.random.normal(key, (3,))}

    priors = {"k": dist.LogNormal(m0, s0)}
    table = nmi.simulate_table(
        simulator, net, priors, 2150, key=jax.random.key(6), progress=False
    )
    assert list(table.columns) == ["k", "y[0]", "y[1]", "y[2]", "status"]
    np.testing.assert_allclose(np.log(table["k"]).mean(), m0, atol=0.05)
    train, test = table.iloc[:2000], table.iloc[2000:]
    q = nmi.train_posterior(
        train,
        ["y"],
        key=jax.random.key(7),
        transformer="affine",
        flow_layers=1,
        nn_width=16,
        max_epochs=40,
        batch_size=256,
        learning_rate=1e-2,
        progress=False,
    )
    assert isinstance(q.constraints[0], nm.Positive)  # kept from the priors
    # two fixed observations and the held-out ones, in one (compiled) call
    fixed = np.log([[0.2, 0.2, 0.2], [0.5, 0.4, 0.6]])
    observed = np.concatenate([fixed, test[["y[0]", "y[1]", "y[2]"]].to_numpy()])
    draws = q.sample(jax.random.key(8), observed, 1000)["k"]  # amortised
    assert draws.shape == (152, 1000) and np.all(draws > 0)
    prec = 1 / s0**2 + 3 / s**2
    for y, d in zip(fixed, draws[:2]):
        mean = (m0 / s0**2 + np.sum(y) / s**2) / prec
        np.testing.assert_allclose(np.log(d).mean(), mean, atol=0.05)
        np.testing.assert_allclose(np.log(d).std(), prec**-0.5, rtol=0.2)

    draws = draws[2:]
    ranks = nmi.sbc_ranks(test["k"].to_numpy(), draws)
    assert nmi.rank_uniformity(ranks, 1000) > 0.001
    assert abs(nmi.coverage(test["k"].to_numpy(), draws) - 0.9) < 0.08


def test_calibration_helpers_detect_miscalibration():
    rng = np.random.default_rng(0)
    truths = rng.normal(size=(400,))
    good = rng.normal(size=(400, 49))  # the prior is a calibrated posterior
    narrow = 0.5 * rng.normal(size=(400, 49))  # overconfident
    assert nmi.rank_uniformity(nmi.sbc_ranks(truths, good), 49) > 0.01
    assert nmi.rank_uniformity(nmi.sbc_ranks(truths, narrow), 49) < 1e-6
    assert abs(nmi.coverage(truths, good) - 0.9) < 0.05
    assert nmi.coverage(truths, narrow) < 0.7
    with pytest.raises(ValueError, match="datasets, draws"):
        nmi.sbc_ranks(truths, good[:10])


def test_summary_features_against_numpy():
    dt = 2.0  # ms, so 500 Hz sampling
    t = np.arange(500) * dt
    freqs = np.array([8.0, 20.0, 40.0])  # Hz, on the 4 Hz bins of nperseg=125
    rng = np.random.default_rng(1)
    x = np.sin(2 * np.pi * freqs * t[:, None] / 1000.0) + 0.1 * rng.normal(
        size=(500, 3)
    )
    f = nmi.summary_features(jnp.asarray(x), dt=dt, nperseg=125, fcd_window=200.0)
    iu = np.triu_indices(3, 1)
    np.testing.assert_allclose(
        f["fc"], np.arctanh(np.corrcoef(x.T)[iu]), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(f["peak_freq"], freqs)
    np.testing.assert_allclose(f["mean"], x.mean(0), atol=1e-5)
    np.testing.assert_allclose(f["std"], x.std(0), rtol=1e-5)
    # FCD from 200 ms windows (100 samples) every 100 ms: 9 windows
    wins = [np.corrcoef(x[i : i + 100].T)[iu] for i in range(0, 401, 50)]
    fcd = np.corrcoef(np.array(wins))[np.triu_indices(9, 1)]
    np.testing.assert_allclose(f["fcd_mean"], fcd.mean(), rtol=1e-3)
    np.testing.assert_allclose(f["fcd_std"], fcd.std(), rtol=1e-3)


def test_flattened_names_have_one_owner():
    """NUTS summaries and simulation tables name array elements the same way."""
    import pandas as pd

    from neuromass.inference import _names, _nuts, _sbi

    assert _names.flat_names("w", ()) == ["w"]
    assert _names.flat_names("w", (2, 2)) == ["w[0,0]", "w[0,1]", "w[1,0]", "w[1,1]"]
    col = np.arange(12.0).reshape(3, 2, 2)
    cols = _names.flat_columns("w", col)
    assert list(cols) == _names.flat_names("w", (2, 2))
    np.testing.assert_array_equal(cols["w[1,0]"], col[:, 1, 0])
    table = pd.DataFrame({**cols, "wx": np.zeros(3)})
    assert nmi.table_columns(table, "w") == list(cols)
    assert not hasattr(_nuts, "_flat_names") and not hasattr(_sbi, "_flatten")
