"""Tests for `neuromass.metrics` against independent NumPy/SciPy references."""

import contextlib
import inspect
import pathlib
import re
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal
import scipy.stats

from neuromass import metrics


PUBLIC = [
    "fc",
    "fcd",
    "upper_triangle",
    "fc_corr",
    "fc_mse",
    "fcd_ks",
    "log_spectrum_mse",
    "psd",
    "peak_frequency",
    "analytic_signal",
    "analytic_phase",
    "kuramoto_order",
    "kuramoto_order_from_signal",
    "metastability",
]


@pytest.fixture(autouse=True)
def strict_promotion():
    # The library must not rely on implicit rank or dtype promotion.
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        yield


@pytest.fixture
def x64():
    if hasattr(jax, "enable_x64"):
        context = jax.enable_x64(True)
    else:  # older JAX
        from jax.experimental import enable_x64

        context = enable_x64()
    with context:
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _oscillators(rng, shape, dt=1.0, freq_hz=10.0):
    """Noisy sinusoids of shape (..., time, nodes), sample spacing `dt` ms."""
    *lead, n_time, n_nodes = shape
    t = np.arange(n_time) * dt / 1000.0
    phase0 = rng.uniform(0, 2 * np.pi, (*lead, 1, n_nodes))
    x = np.sin(2 * np.pi * freq_hz * t[:, None] + phase0)
    return x + 0.5 * rng.standard_normal(shape)


# ----------------------------------------------------------------------------- FC


def _np_fc(x):
    out = np.empty(x.shape[:-2] + (x.shape[-1],) * 2)
    for idx in np.ndindex(*x.shape[:-2]):
        out[idx] = np.corrcoef(x[idx].T)
    return out


def test_fc_matches_corrcoef(x64, rng):
    x = rng.standard_normal((3, 2, 50, 6)) + rng.uniform(-5, 5, (3, 2, 1, 6))
    got = metrics.fc(x)
    assert got.shape == (3, 2, 6, 6) and got.dtype == jnp.float64
    np.testing.assert_allclose(got, _np_fc(x), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(metrics.fc(x[0, 0]), np.corrcoef(x[0, 0].T), atol=1e-10)
    ints = rng.integers(0, 10, (40, 3))
    np.testing.assert_allclose(metrics.fc(ints), np.corrcoef(ints.T), atol=1e-10)


def test_fc_float32_and_constant_region(rng):
    x = rng.standard_normal((80, 4)).astype(np.float32)
    x[:, 2] = 3.0  # a silent region
    got = metrics.fc(x)
    assert got.dtype == jnp.float32
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(np.diag(got), 1.0)
    np.testing.assert_allclose(np.delete(got[2], 2), 0.0, atol=1e-6)
    keep = [0, 1, 3]
    np.testing.assert_allclose(
        got[np.ix_(keep, keep)], np.corrcoef(x[:, keep].T), atol=1e-5
    )
    grad = jax.jit(jax.grad(lambda x: metrics.fc_mse(metrics.fc(x), jnp.eye(4))))(x)
    assert np.all(np.isfinite(grad))


def test_fc_of_identical_signals_is_one():
    # Identical uncoupled oscillators (the k = 0 point of a sweep): FC = 1, never
    # more, even with float32 rounding.
    t = np.arange(800.0)
    x = np.repeat(0.45 * np.cos(0.3 * t)[:, None], 5, axis=1).astype(np.float32)
    got = np.asarray(metrics.fc(x))
    assert got.max() <= 1.0
    np.testing.assert_allclose(got, 1.0, rtol=1e-6)


# ---------------------------------------------------------------------------- FCD


def _np_fcd(x, window, step):
    n_time, n_nodes = x.shape
    rows, cols = np.triu_indices(n_nodes, 1)
    vectors = []
    start = 0
    while start + window <= n_time:
        c = np.corrcoef(x[start : start + window].T)
        vectors.append(c[rows, cols])
        start += step
    return np.corrcoef(np.array(vectors))


def test_fcd_matches_numpy_loop(x64, rng):
    x = rng.standard_normal((2, 100, 5))
    got = metrics.fcd(x, window=30, step=7)
    expected = np.stack([_np_fcd(xi, 30, 7) for xi in x])
    assert got.shape == expected.shape == (2, 11, 11)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    # Same windows given in ms at dt = 2 ms.
    in_ms = metrics.fcd(x, window=60.0, step=14.0, dt=2.0)
    np.testing.assert_allclose(in_ms, got, rtol=1e-12, atol=1e-12)
    # A window as long as the series gives a single window.
    np.testing.assert_allclose(metrics.fcd(x[0], 100, 1), [[1.0]])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(window=101, step=1), "longer than the series"),
        (dict(window=0, step=1), "positive `window`"),
        (dict(window=10, step=-2), "positive `step`"),
        (dict(window=1, step=1), "at least 2 samples"),
        (dict(window=10.5, step=1), "must be an integer"),
        (dict(window=10, step=0.4, dt=1.0), "shorter than one sample"),
        (dict(window=10, step=1, dt=-1.0), "`dt` > 0"),
        (dict(window=jnp.asarray(10), step=1), "Python number"),
    ],
)
def test_fcd_rejects_bad_windows(rng, kwargs, match):
    x = rng.standard_normal((100, 4))
    with pytest.raises(ValueError, match=match):
        metrics.fcd(x, **kwargs)


def test_fcd_needs_three_regions(rng):
    with pytest.raises(ValueError, match="at least 3 regions"):
        metrics.fcd(rng.standard_normal((100, 2)), 10, 5)


# ------------------------------------------------------------ upper triangle, scores


@pytest.mark.parametrize("k", [0, 1, 2])
def test_upper_triangle(x64, rng, k):
    m = rng.standard_normal((2, 5, 5))
    rows, cols = np.triu_indices(5, k)
    np.testing.assert_array_equal(metrics.upper_triangle(m, k=k), m[:, rows, cols])


def test_fc_corr_and_fc_mse_match_numpy(x64, rng):
    target = np.corrcoef(rng.standard_normal((30, 6)).T)
    batch = np.stack([np.corrcoef(rng.standard_normal((30, 6)).T) for _ in range(3)])
    rows, cols = np.triu_indices(6, 1)
    corr = metrics.fc_corr(batch, target)  # batch against one target
    mse = metrics.fc_mse(batch, target)
    assert corr.shape == mse.shape == (3,)
    for i in range(3):
        a, b = batch[i][rows, cols], target[rows, cols]
        np.testing.assert_allclose(corr[i], np.corrcoef(a, b)[0, 1], rtol=1e-10)
        np.testing.assert_allclose(mse[i], np.mean((a - b) ** 2), rtol=1e-12)
    np.testing.assert_allclose(metrics.fc_corr(target, target), 1.0, rtol=1e-10)
    assert metrics.fc_mse(target, target) == 0.0


@pytest.mark.parametrize(
    "fn, a, b, match",
    [
        ("fc_corr", np.eye(4)[:3], np.eye(4), "`fc_a` to be a square"),
        ("fc_corr", np.eye(4), np.ones(4), "`fc_b` to be a square"),
        ("fc_corr", np.eye(4), np.eye(5), "same regions"),
        ("fc_corr", np.eye(2), np.eye(2), "at least 3x3"),
        ("fc_mse", np.ones((2, 4, 4)), np.ones((3, 4, 4)), "do not broadcast"),
        ("fcd_ks", np.eye(2), np.eye(5), "at least 3x3"),
        ("upper_triangle", np.ones((3, 4)), None, "`m` to be a square"),
    ],
)
def test_score_validation(fn, a, b, match):
    args = (a,) if b is None else (a, b)
    with pytest.raises(ValueError, match=match):
        getattr(metrics, fn)(*args)


def test_log_spectrum_mse(x64, rng):
    x = rng.standard_normal((2, 600, 4))
    freqs, power = metrics.psd(x, dt=1.0, nperseg=100)
    a, b = np.asarray(power[0]), np.asarray(power[1])
    expected = np.mean((np.log(a + 1e-12) - np.log(b + 1e-12)) ** 2)
    np.testing.assert_allclose(metrics.log_spectrum_mse(a, b), expected, rtol=1e-12)
    batch = metrics.log_spectrum_mse(np.stack([a, b]), b)  # a batch against one
    assert batch.shape == (2,) and batch[1] == 0.0
    np.testing.assert_allclose(batch[0], expected, rtol=1e-12)
    # scale invariance of the log: multiplying both spectra changes nothing
    np.testing.assert_allclose(
        metrics.log_spectrum_mse(3.0 * a, 3.0 * b, eps=0.0),
        metrics.log_spectrum_mse(a, b, eps=0.0),
        rtol=1e-10,
    )
    g = jax.grad(lambda p: metrics.log_spectrum_mse(p, b))(a)
    assert np.all(np.isfinite(g))
    with pytest.raises(ValueError, match="same \\(freqs, nodes\\)"):
        metrics.log_spectrum_mse(a, b[:-1])
    with pytest.raises(ValueError, match="freqs, nodes"):
        metrics.log_spectrum_mse(a[:, 0], b[:, 0])
    with pytest.raises(ValueError, match="`eps` >= 0"):
        metrics.log_spectrum_mse(a, b, eps=-1.0)


def test_fcd_ks_matches_ks_2samp(x64, rng):
    a = rng.standard_normal((2, 9, 9))
    b = rng.standard_normal((2, 12, 12)) * 1.3 + 0.4
    b[1] = np.round(b[1], 1)  # ties within b
    a[1] = np.round(a[1], 1)  # and between a and b
    got = metrics.fcd_ks(a, b)
    assert got.shape == (2,)
    smooth = metrics.fcd_ks(a, b, smooth=True)
    ra, ca = np.triu_indices(9, 1)
    rb, cb = np.triu_indices(12, 1)
    for i in range(2):
        va, vb = a[i][ra, ca], b[i][rb, cb]
        expected = scipy.stats.ks_2samp(va, vb).statistic
        np.testing.assert_allclose(got[i], expected, rtol=1e-12)
        assert abs(smooth[i] - expected) <= 0.5 / va.size + 0.5 / vb.size + 1e-12
    # One target FCD broadcast against a batch; identical samples give exactly 0.
    against_one = metrics.fcd_ks(a, b[0])
    for i in range(2):
        expected = scipy.stats.ks_2samp(a[i][ra, ca], b[0][rb, cb]).statistic
        np.testing.assert_allclose(against_one[i], expected, rtol=1e-12)
    np.testing.assert_array_equal(metrics.fcd_ks(a, a), 0.0)


def test_fcd_ks_gradients(x64, rng):
    a = rng.standard_normal((8, 8))
    b = rng.standard_normal((10, 10)) + 0.5
    exact = jax.jit(jax.grad(lambda a: metrics.fcd_ks(a, b)))(a)
    np.testing.assert_array_equal(exact, 0.0)  # rank-based: no useful gradient
    value_and_grad = jax.jit(
        jax.value_and_grad(lambda a: metrics.fcd_ks(a, b, smooth=True))
    )
    value, smooth = value_and_grad(a)
    assert np.all(np.isfinite(smooth)) and np.any(smooth != 0)
    # Directional finite-difference check of the smooth variant.
    direction = rng.standard_normal(a.shape)
    h = 1e-7
    upper, _ = value_and_grad(a + h * direction)
    lower, _ = value_and_grad(a - h * direction)
    fd = (upper - lower) / (2 * h)
    np.testing.assert_allclose(np.sum(smooth * direction), fd, rtol=1e-5, atol=1e-8)


# ---------------------------------------------------------------------- spectra


@pytest.mark.parametrize(
    "window, nperseg, noverlap, nfft, n_time",
    [
        ("hann", None, None, None, 300),  # default nperseg 256, one segment
        ("hann", None, None, None, 90),  # default nperseg = series length
        ("hamming", 64, 16, None, 300),
        ("blackman", 50, None, 75, 301),  # odd nfft
        ("boxcar", 40, 0, None, 200),
        ("array", 32, 8, 64, 150),
    ],
)
def test_psd_matches_scipy_welch(x64, rng, window, nperseg, noverlap, nfft, n_time):
    dt = 0.5  # ms, fs = 2000 Hz
    x = _oscillators(rng, (2, n_time, 3), dt=dt) + 2.0
    length = min(256, n_time) if nperseg is None else nperseg
    win = rng.uniform(0.5, 1.0, length) if window == "array" else window
    freqs, power = metrics.psd(
        x, dt=dt, nperseg=nperseg, noverlap=noverlap, window=win, nfft=nfft
    )
    ref_f, ref_p = scipy.signal.welch(
        x, fs=1000.0 / dt, window=win, nperseg=length, noverlap=noverlap,
        nfft=nfft, axis=-2,
    )  # fmt: skip
    assert power.shape == ref_p.shape and freqs.shape == ref_f.shape
    np.testing.assert_allclose(freqs, ref_f, rtol=1e-12)
    np.testing.assert_allclose(power, ref_p, rtol=1e-9, atol=1e-12 * ref_p.max())


def test_psd_validation(rng):
    x = rng.standard_normal((100, 2))
    with pytest.raises(ValueError, match="longer than the series"):
        metrics.psd(x, dt=1.0, nperseg=101)
    with pytest.raises(ValueError, match="`noverlap` < `nperseg`"):
        metrics.psd(x, dt=1.0, nperseg=50, noverlap=50)
    with pytest.raises(ValueError, match="`nfft` >= 50"):
        metrics.psd(x, dt=1.0, nperseg=50, nfft=20)
    with pytest.raises(ValueError, match="knows the windows"):
        metrics.psd(x, dt=1.0, window="kaiser")
    with pytest.raises(ValueError, match=r"shape \(nperseg,\)"):
        metrics.psd(x, dt=1.0, nperseg=50, window=np.ones(40))
    with pytest.raises(ValueError, match="`dt` > 0"):
        metrics.psd(x, dt=0.0)
    with pytest.raises(ValueError, match="concrete number"):
        jax.jit(lambda x, dt: metrics.psd(x, dt=dt))(x, 1.0)
    with pytest.raises(ValueError, match=r"ndim >= 2"):
        metrics.psd(np.ones(100), dt=1.0)


def test_peak_frequency(x64, rng):
    dt = 1.0
    t = np.arange(2000) * dt / 1000.0
    x = np.stack(
        [np.sin(2 * np.pi * 12.0 * t), np.sin(2 * np.pi * 31.0 * t) + 0.4], axis=-1
    )
    x = x + 0.2 * rng.standard_normal(x.shape)
    freqs, power = scipy.signal.welch(x, fs=1000.0 / dt, nperseg=1000, axis=0)
    np.testing.assert_allclose(
        metrics.peak_frequency(x, dt=dt, nperseg=1000), freqs[power.argmax(axis=0)]
    )
    np.testing.assert_allclose(metrics.peak_frequency(x, dt=dt, nperseg=1000), [12, 31])
    # Restricting the band moves the peak of region 1 onto region 0's line.
    band = (freqs >= 5) & (freqs <= 20)
    expected = freqs[band][power[band].argmax(axis=0)]
    got = metrics.peak_frequency(x, dt=dt, nperseg=1000, fmin=5.0, fmax=20.0)
    np.testing.assert_allclose(got, expected)
    assert got[0] == 12.0 and 5.0 <= got[1] <= 20.0
    batched = metrics.peak_frequency(np.stack([x, x[:, ::-1]]), dt=dt, nperseg=1000)
    np.testing.assert_allclose(batched, [[12, 31], [31, 12]])
    with pytest.raises(ValueError, match="no frequency of the Welch grid"):
        metrics.peak_frequency(x, dt=dt, nperseg=1000, fmin=10.2, fmax=10.8)


# ----------------------------------------------------------------- synchrony


@pytest.mark.parametrize("n_time", [64, 65])
def test_analytic_phase_matches_scipy_hilbert(x64, rng, n_time):
    x = _oscillators(rng, (2, n_time, 3)) + 1.5
    ref = scipy.signal.hilbert(x, axis=-2)
    np.testing.assert_allclose(metrics.analytic_signal(x), ref, atol=1e-12)
    np.testing.assert_allclose(metrics.analytic_phase(x), np.angle(ref), atol=1e-12)
    centred = x - x.mean(axis=-2, keepdims=True)
    np.testing.assert_allclose(
        metrics.analytic_phase(x, demean=True),
        np.angle(scipy.signal.hilbert(centred, axis=-2)),
        atol=1e-12,
    )


def _np_order(theta):
    return np.abs(np.exp(1j * theta).mean(axis=-1))


def test_kuramoto_order_and_metastability(x64, rng):
    theta = rng.uniform(-np.pi, np.pi, (2, 40, 7))
    np.testing.assert_allclose(metrics.kuramoto_order(theta), _np_order(theta))
    np.testing.assert_allclose(metrics.kuramoto_order(np.zeros((5, 3))), 1.0)

    x = _oscillators(rng, (2, 200, 5)) + 3.0
    phases = np.angle(scipy.signal.hilbert(x - x.mean(axis=-2, keepdims=True), axis=-2))
    r = _np_order(phases)
    np.testing.assert_allclose(metrics.kuramoto_order_from_signal(x), r, atol=1e-12)
    expected = np.std(r, axis=-1)
    np.testing.assert_allclose(
        metrics.metastability(x, kind="signal"), expected, rtol=1e-10
    )
    np.testing.assert_allclose(
        metrics.metastability(phases, kind="phases"), expected, rtol=1e-10
    )
    np.testing.assert_allclose(
        metrics.metastability(r, kind="order", ddof=1),
        np.std(r, axis=-1, ddof=1),
        rtol=1e-10,
    )
    raw = _np_order(np.angle(scipy.signal.hilbert(x, axis=-2)))
    np.testing.assert_allclose(
        metrics.metastability(x, kind="signal", demean=False),
        np.std(raw, axis=-1),
        rtol=1e-10,
    )
    # A 1-D argument is R(t); anything else needs `kind`.
    np.testing.assert_allclose(metrics.metastability(r[0]), expected[0], rtol=1e-10)
    with pytest.raises(ValueError, match="cannot tell from its shape"):
        metrics.metastability(r)
    with pytest.raises(ValueError, match="'signal', 'phases', 'order' or None"):
        metrics.metastability(x, kind="R")


def test_synchrony_gradients_are_finite(x64, rng):
    x = _oscillators(rng, (64, 4))
    g = jax.jit(jax.grad(lambda x: metrics.metastability(x, kind="signal")))(x)
    assert np.all(np.isfinite(g)) and np.any(g != 0)

    def signal_loss(x):
        r = metrics.kuramoto_order_from_signal(x)
        return jnp.sum(r) + jnp.sum(metrics.analytic_phase(x))

    g = jax.jit(jax.grad(signal_loss))(x)
    assert np.all(np.isfinite(g)) and np.any(g != 0)

    # Degenerate points: perfect synchrony (R constant 1), zero amplitude, R = 0.
    def degenerate(in_phase, silent, anti):
        return (
            metrics.metastability(in_phase, kind="phases")
            + jnp.sum(metrics.kuramoto_order_from_signal(silent))
            + jnp.sum(metrics.kuramoto_order(anti))
        )

    anti = jnp.array([[0.0, np.pi]] * 4)
    grads = jax.jit(jax.grad(degenerate, argnums=(0, 1, 2)))(
        jnp.zeros((10, 3)), jnp.zeros((16, 3)), anti
    )
    np.testing.assert_array_equal(grads[0], 0.0)
    assert all(np.all(np.isfinite(g)) for g in grads)


# ----------------------------------------------------- transformations, gradients


@pytest.mark.slow
def test_jit_and_vmap_agree_with_batched_calls(rng):
    x = rng.standard_normal((3, 120, 4)).astype(np.float32)
    np.testing.assert_allclose(jax.jit(metrics.fc)(x), metrics.fc(x), atol=1e-6)
    np.testing.assert_allclose(jax.vmap(metrics.fc)(x), metrics.fc(x), atol=1e-6)
    fcd = jax.jit(metrics.fcd, static_argnames=("window", "step", "dt"))
    np.testing.assert_allclose(
        jax.vmap(lambda x: fcd(x, window=40, step=20))(x),
        metrics.fcd(x, 40, 20),
        atol=1e-5,
    )
    welch = jax.jit(lambda x: metrics.psd(x, dt=1.0, nperseg=64)[1])
    np.testing.assert_allclose(
        jax.vmap(welch)(x), metrics.psd(x, dt=1.0, nperseg=64)[1], rtol=1e-5
    )
    order = jax.jit(jax.vmap(metrics.kuramoto_order_from_signal))(x)
    np.testing.assert_allclose(
        jax.vmap(metrics.metastability)(order),  # 1-D R(t) per batch element
        metrics.metastability(x, kind="signal"),
        rtol=1e-5,
    )
    fcds = metrics.fcd(x, 40, 20)
    np.testing.assert_allclose(
        jax.jit(jax.vmap(metrics.fcd_ks, in_axes=(0, None)))(fcds, fcds[0]),
        metrics.fcd_ks(fcds, fcds[0]),
    )


def test_grad_of_fc_mse_matches_finite_differences(x64, rng):
    x = rng.standard_normal((12, 4))
    target = np.corrcoef(rng.standard_normal((12, 4)).T)
    loss = jax.jit(lambda x: metrics.fc_mse(metrics.fc(x), target))
    grad = jax.jit(jax.grad(loss))(x)
    assert grad.dtype == jnp.float64 and np.all(np.isfinite(grad))
    h = 1e-6
    fd = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[idx] = h
        fd[idx] = (loss(x + step) - loss(x - step)) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


def test_grads_through_fcd_psd_and_fc_corr_are_finite(x64, rng):
    x = rng.standard_normal((60, 4))
    target = np.corrcoef(rng.standard_normal((60, 4)).T)
    losses = (
        lambda x: jnp.sum(metrics.fcd(x, 20, 10) ** 2),
        lambda x: jnp.sum(metrics.psd(x, dt=1.0, nperseg=32)[1]),
        lambda x: metrics.fc_corr(metrics.fc(x), target),
    )
    grads = jax.jit(lambda x: [jax.grad(f)(x) for f in losses])(x)
    for g in grads:
        assert np.all(np.isfinite(g)) and np.any(g != 0)


# -------------------------------------------------------------------- docs


def _examples(obj):
    doc = inspect.getdoc(obj) or ""
    return re.findall(r"```python\n(.*?)```", doc, flags=re.S)


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring_example_runs(name):
    examples = _examples(getattr(metrics, name))
    assert examples, f"`metrics.{name}` has no `!!! example`"
    for code in examples:
        with contextlib.redirect_stdout(None):
            exec(compile(textwrap.dedent(code), f"<{name} example>", "exec"), {})


def test_public_api_is_documented():
    exported = {
        n
        for n in dir(metrics)
        if not n.startswith("_") and not inspect.ismodule(getattr(metrics, n))
    }
    assert exported == set(PUBLIC)
    docs = pathlib.Path(__file__).parents[1] / "docs"
    api = (docs / "api" / "metrics.md").read_text()  # one entry per object
    guide = (docs / "metrics.md").read_text()  # links to the entries
    for name in PUBLIC:
        assert f"::: neuromass.metrics.{name}" in api, name
        assert f"[`neuromass.metrics.{name}`][]" in guide, name


@pytest.mark.slow
def test_docs_page_examples_run():
    page = pathlib.Path(__file__).parents[1] / "docs" / "metrics.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    namespace = {}
    with contextlib.redirect_stdout(None):
        for code in blocks:
            exec(compile(code, "<docs/metrics.md>", "exec"), namespace)
    assert namespace["m"].shape == (26, 26)
    np.testing.assert_allclose(namespace["peaks"], 10.0)
    np.testing.assert_allclose(namespace["same"], namespace["r"], atol=1e-5)
