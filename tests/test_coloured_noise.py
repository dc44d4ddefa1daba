"""Ornstein-Uhlenbeck (coloured) noise against its stationary theory: variance
sigma^2, autocorrelation exp(-s / tau), covariance sigma^2 M M^T with a mixing matrix;
and `eqx.tree_at` of its fields against a fresh build."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import Decay

import neuromass as nm


N = 8
TAU, SIGMA = 5.0, 0.2
MIX = np.eye(N)
MIX[1, 0], MIX[1, 1] = 0.6, 0.8  # region 1: correlation 0.6 with region 0


def _run(noise, t1=2000.0, key=0):
    net = nm.Network(Decay(gamma=1.0), jnp.zeros((N, N)), noise=noise)
    return nm.simulate(
        net, t1=t1, dt=0.1, key=jax.random.key(key), variables=("v", "ou_v")
    )


@pytest.mark.slow
def test_stationary_statistics_match_theory():
    """2000 ms of 8 independent processes (~3,000 correlation times): the variance
    within 8 % of sigma^2, the autocorrelation at lags tau/2, tau, 2 tau within 0.05
    of exp(-s / tau); the mixed forcing has the correlation of M M^T."""
    sol = _run(nm.noise.OrnsteinUhlenbeck(TAU, SIGMA, mixing=MIX))
    eta = np.asarray(sol["ou_v"], dtype=float)
    assert eta.var() == pytest.approx(SIGMA**2, rel=0.08)
    x = eta - eta.mean(0)
    for lag_ms in (2.5, 5.0, 10.0):
        lag = int(lag_ms / 0.1)
        ac = (x[lag:] * x[:-lag]).mean() / x.var()
        assert ac == pytest.approx(np.exp(-lag_ms / TAU), abs=0.05), lag_ms
    forcing = eta @ MIX.T
    corr = np.corrcoef(forcing.T)
    cov = MIX @ MIX.T
    assert corr[1, 0] == pytest.approx(
        cov[1, 0] / np.sqrt(cov[0, 0] * cov[1, 1]), abs=0.1
    )
    assert abs(corr[2, 0]) < 0.1
    # the forcing enters the drift: v' = -v + eta, whose stationary variance is
    # sigma^2 / (1 + 1 / tau) for an OU forcing of time constant tau (gamma = 1)
    v = np.asarray(sol["v"], dtype=float)[:, 2:]
    assert v.var() == pytest.approx(SIGMA**2 * TAU / (1 + TAU), rel=0.12)


@pytest.mark.slow
def test_tree_at_of_noise_fields_equals_fresh():
    base = nm.noise.OrnsteinUhlenbeck(TAU, SIGMA)
    changed = eqx.tree_at(lambda n: (n.tau, n.sigma), base, (2.0, 0.1))
    a = _run(changed, t1=50.0)["v"]
    b = _run(nm.noise.OrnsteinUhlenbeck(2.0, 0.1), t1=50.0)["v"]
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_bad_arguments():
    with pytest.raises(ValueError, match="tau"):
        nm.noise.OrnsteinUhlenbeck(0.0, 0.1)
    with pytest.raises(ValueError, match="mixing"):
        _run(nm.noise.OrnsteinUhlenbeck(1.0, 0.1, mixing=np.eye(3)), t1=1.0)
    with pytest.raises(ValueError, match="unknown variable"):
        nm.Network(
            Decay(),
            jnp.zeros((2, 2)),
            noise=nm.noise.OrnsteinUhlenbeck(1.0, 0.1, variables="x"),
        )


def test_random_history_and_flat_connectivity(x64):
    """A random history is drawn from the node's state ranges (constant per region
    when asked), y0 defaults to its last sample; a flattened (N * N,) connectivity
    builds the same network as the matrix."""
    w = np.array([[0.0, 0.5, 0.0], [0.3, 0.0, 0.2], [0.0, 0.4, 0.0]])
    lengths = np.full((3, 3), 12.0)
    net = nm.Network(nm.models.Hopf(), w, lengths=lengths, speed=6.0, k=0.3)
    flat = nm.Network(
        nm.models.Hopf(), w.ravel(), lengths=lengths.ravel(), speed=6.0, k=0.3
    )
    np.testing.assert_array_equal(np.asarray(flat.weights), np.asarray(net.weights))
    hist = nm.RandomHistory(jax.random.key(3))
    past = hist.draw(net.node, 3, 40, jnp.float64)
    lo, hi = nm.models.Hopf.state_ranges["x"]
    assert past["x"].shape == (40, 3) and lo <= float(past["x"].min())
    assert float(past["x"].max()) <= hi and float(jnp.std(past["x"][:, 0])) > 0
    const = nm.RandomHistory(jax.random.key(3), constant=True).draw(
        net.node, 3, 40, jnp.float64
    )
    assert bool(jnp.all(const["x"] == const["x"][:1]))
    a = nm.simulate(net, t1=5.0, dt=0.1, history=hist)
    b = nm.simulate(flat, t1=5.0, dt=0.1, history=hist)
    np.testing.assert_array_equal(np.asarray(a["x"]), np.asarray(b["x"]))
    length = a.stats["max_delay"]  # 2 ms: the history's last sample is y0
    assert length == pytest.approx(2.0)
    full = hist.draw(
        net.node, 3, nm._delay._structure.history_length(20.0), jnp.float64
    )
    np.testing.assert_allclose(a["x"][0], full["x"][-1])
    with pytest.raises(ValueError, match="flattening"):
        nm.Network(nm.models.Hopf(), np.ones(5))


def test_tvb_coloured_noise_is_this_ou_process():
    """TVB's coloured noise (`noise.Additive(nsig=D, ntau=tau)`) adds
    `sqrt(2 D) * dt * eta_n / sqrt(tau)` per step, eta an AR(1) of unit variance and
    lag-one correlation exp(-dt / tau): the forcing of
    `OrnsteinUhlenbeck(tau=ntau, sigma=sqrt(2 D / ntau))` (the conversion on the TVB
    migration page), sampled by TVB's own generator."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tvb.simulator import noise as tvb_noise

    d, ntau, dt, chains, steps = 0.003, 5.0, 0.1, 4000, 200
    gen = tvb_noise.Additive(nsig=np.array([d]), ntau=ntau)
    gen.random_stream.seed(3)
    gen.configure_coloured(dt=dt, shape=(chains,))
    forcing = np.stack(
        [gen.gfun(None) * gen.coloured((chains,)) / dt for _ in range(steps)]
    )  # (steps, chains): what TVB adds to the derivative
    ours = nm.noise.OrnsteinUhlenbeck(tau=ntau, sigma=np.sqrt(2 * d / ntau))
    sem = ours.sigma**2 * np.sqrt(2.0 / chains)  # sampling error of a variance
    assert abs(forcing[-1].var() - ours.sigma**2) < 5 * sem
    lag1 = np.corrcoef(forcing[-2], forcing[-1])[0, 1]
    assert abs(lag1 - np.exp(-dt / ours.tau)) < 5 / np.sqrt(chains)
    lag = int(ntau / dt)  # one correlation time: e^-1
    corr = np.corrcoef(forcing[-1 - lag], forcing[-1])[0, 1]
    assert abs(corr - np.exp(-1.0)) < 5 / np.sqrt(chains)
