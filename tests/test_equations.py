"""Temporal and spatial equations (`neuromass.equations`).

1. Every equation equals The Virtual Brain's own `Equation.evaluate` (tvb-library,
   test-only) on a grid, for TVB's defaults and for other parameters, in float64.
2. The smooth pulse train tends to TVB's exact one away from the edges as its
   sharpness grows, is continuous, and has finite gradients that match finite
   differences.
3. Equations are pytrees: `eqx.tree_at` and `vmap` over a parameter give what fresh
   objects give; gradients with respect to parameters match finite differences.
4. Bad parameters raise a `ValueError` that names the argument.
"""

import inspect
import re
import textwrap
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neuromass as nm


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    tvb_equations = pytest.importorskip("tvb.datatypes.equations")

E = nm.equations

# (neuromass class, TVB class name, other parameters than TVB's defaults)
CASES = [
    (E.PulseTrain, "PulseTrain", {"onset": 12.5, "T": 20.0, "tau": 3.0, "amp": -2.0}),
    (E.Sinusoid, "Sinusoid", {"amp": 0.3, "frequency": 0.04}),
    (E.Cosine, "Cosine", {"amp": -1.5, "frequency": 0.0025}),
    (E.Alpha, "Alpha", {"onset": 10.0, "alpha": 0.1, "beta": 0.5}),
    (
        E.GeneralizedSigmoid,
        "GeneralizedSigmoid",
        {"low": -1.0, "high": 2.0, "midpoint": 100.0, "sigma": 10.0},
    ),
    (E.Linear, "Linear", {"a": -0.01, "b": 2.0}),
    (
        E.Gaussian,
        "Gaussian",
        {"amp": 2.0, "sigma": 15.0, "midpoint": 40.0, "offset": -0.5},
    ),
    (
        E.DoubleGaussian,
        "DoubleGaussian",
        {
            "amp_1": 1.0,
            "sigma_1": 5.0,
            "midpoint_1": 10.0,
            "amp_2": 0.5,
            "sigma_2": 15.0,
            "midpoint_2": -5.0,
        },
    ),
    (E.Sigmoid, "Sigmoid", {"amp": 2.0, "radius": 20.0, "sigma": 3.0, "offset": 0.1}),
]
IDS = [c[1] for c in CASES]


def _tvb(name, params=None):
    """A TVB equation with its defaults updated by `params` (TVB replaces the whole
    `parameters` dict, so the defaults are copied first)."""
    eq = getattr(tvb_equations, name)()
    eq.parameters = {**eq.parameters, **(params or {})}
    return eq


def _grid():
    # Times (ms) or distances (mm) on both sides of zero, plus every edge of both
    # pulse trains tested (onset + k T and onset + k T + tau), where the exact form
    # jumps.
    grid = np.linspace(-60.0, 400.0, 4601)
    k = np.arange(0, 12)
    edges = [30.0 + 42.0 * k, 30.0 + 42.0 * k + 13.0, 12.5 + 20.0 * k, 15.5 + 20 * k]
    return np.sort(np.concatenate([grid, *edges]))


def test_tvb_defaults_are_ours(x64):
    for cls, name, _ in CASES:
        tvb = _tvb(name).parameters
        ours = {k: float(getattr(cls(), k)) for k in tvb}
        assert ours == tvb, name


@pytest.mark.parametrize("cls, name, params", CASES, ids=IDS)
@pytest.mark.parametrize("which", ["defaults", "other"])
def test_equals_tvb_evaluate(x64, cls, name, params, which):
    params = params if which == "other" else {}
    var = _grid()
    expected = _tvb(name, params).evaluate(var)
    got = np.asarray(cls(**params)(jnp.asarray(var)))
    assert got.dtype == np.float64 and got.shape == var.shape
    if cls is E.PulseTrain:  # same comparisons on the same float64 numbers
        np.testing.assert_array_equal(got, expected)
    else:
        scale = np.max(np.abs(expected))
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-14 * scale)


def test_pulse_train_edges_as_tvb(x64):
    # Off at the onset exactly, on at onset + k T, off at onset + k T + tau.
    pulse = E.PulseTrain(onset=30.0, T=42.0, tau=13.0, amp=2.0)
    t = jnp.array([29.9, 30.0, 30.1, 42.9, 43.0, 72.0, 85.0, 114.0])
    np.testing.assert_array_equal(pulse(t), [0, 0, 2, 2, 0, 2, 0, 2])
    # tau = T: a step that stays on after the onset; tau = 0: never on.
    np.testing.assert_array_equal(
        E.PulseTrain(T=10.0, tau=10.0)(jnp.array([30.0, 31.0, 40.0, 95.0])),
        [0, 1, 1, 1],
    )
    assert not np.any(E.PulseTrain(tau=0.0)(jnp.linspace(0, 500, 501)))


def test_float32_by_default():
    for cls, _, params in CASES:
        assert cls(**params)(jnp.linspace(0.0, 10.0, 5)).dtype == jnp.float32


def test_parameters_broadcast_per_region(x64):
    # An (N,) parameter evaluated at one time gives one value per region.
    pulse = E.PulseTrain(onset=jnp.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(pulse(22.0), [1.0, 1.0, 0.0])
    sine = E.Sinusoid(frequency=jnp.array([0.01, 0.02]))
    t = jnp.linspace(0.0, 100.0, 11)[:, None]
    np.testing.assert_allclose(
        sine(t), np.sin(2 * np.pi * np.array([0.01, 0.02]) * np.asarray(t)), atol=1e-14
    )


# ----------------------------------------------------------------- smooth pulses


def _distance_to_edges(t, onset, T, tau):
    k = np.arange(int(np.ceil((t.max() - onset) / T)) + 2)
    edges = np.concatenate([onset + k * T, onset + k * T + tau])
    return np.min(np.abs(t[:, None] - edges[None, :]), axis=1)


@pytest.mark.parametrize("T, tau", [(42.0, 13.0), (10.0, 10.0), (20.0, 1.0)])
def test_smooth_pulse_train_tends_to_exact(x64, T, tau):
    onset, amp = 30.0, -1.5
    t = np.linspace(-50.0, 600.0, 13001)
    exact = np.asarray(E.PulseTrain(onset=onset, T=T, tau=tau, amp=amp)(t))
    d = _distance_to_edges(t, onset, T, tau)
    far = d > 0.5
    errors = []
    for s in [1.0, 4.0, 16.0, 64.0]:
        smooth = E.PulseTrain(onset=onset, T=T, tau=tau, amp=amp, sharpness=s)
        err = np.abs(np.asarray(smooth(t)) - exact)
        assert np.all(err <= 6 * abs(amp) * np.exp(-s * d) + 1e-14)
        errors.append(err[far].max())
    assert errors[0] > errors[1] > errors[2] and errors[3] < 1e-12
    # On an edge itself the smooth train is half-way.
    edge = E.PulseTrain(onset=onset, T=T, tau=min(tau, T / 2), amp=amp, sharpness=64.0)
    np.testing.assert_allclose(edge(jnp.array([onset + 2 * T])), amp / 2, atol=1e-12)


@pytest.mark.parametrize("s", [0.2, 1.0])
def test_smooth_pulse_train_is_continuous(x64, s):
    # Soft edges (s T = 2 or 10) make the neighbouring pulses matter: the sum still
    # has no jump where it switches terms (the middle of each off interval).
    onset, T, tau = 5.0, 10.0, 4.0
    pulse = E.PulseTrain(onset=onset, T=T, tau=tau, sharpness=s)
    switches = onset + np.arange(0, 6) * T + (T + tau) / 2
    eps = 1e-9
    left, right = pulse(switches - eps), pulse(switches + eps)
    slope = np.max(np.abs(np.gradient(pulse(np.linspace(0, 80, 8001)), 0.01)))
    np.testing.assert_allclose(left, right, atol=3 * eps * slope + 1e-13)
    # And it equals the sum over all pulses (none before the onset), but for the
    # pulses it leaves out, whose nearest edge is (3 T - tau) / 2 away or more.
    t = np.linspace(-20.0, 70.0, 901)
    k = np.arange(0, 40)[:, None]
    sig = jax.nn.sigmoid
    full = np.sum(sig(s * (t - onset - k * T)) - sig(s * (t - onset - k * T - tau)), 0)
    bound = 3 * np.exp(-s * (3 * T - tau) / 2)
    np.testing.assert_allclose(pulse(t), full, rtol=0, atol=bound + 1e-14)


def _fd(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["onset", "T", "tau", "amp"])
def test_smooth_pulse_train_gradients(x64, name):
    base = {"onset": 30.0, "T": 42.0, "tau": 13.0, "amp": 1.5, "sharpness": 0.8}
    t = jnp.array([29.0, 31.0, 42.5, 43.5, 71.0, 73.0, 200.0])

    def f(value):
        return E.PulseTrain(**{**base, name: value})(t)

    jac = jax.jacfwd(f)(jnp.asarray(base[name]))
    grad = jax.grad(lambda v: f(v).sum())(jnp.asarray(base[name]))
    assert np.all(np.isfinite(jac))
    np.testing.assert_allclose(jac, _fd(f, base[name]), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(grad, jac.sum(), rtol=1e-12)
    if name != "amp":  # near an edge, moving it changes the value
        assert np.max(np.abs(jac)) > 0.1


def test_exact_pulse_train_gradients(x64):
    t = jnp.linspace(0.0, 300.0, 301)
    d_amp = jax.jacfwd(lambda a: E.PulseTrain(amp=a)(t))(2.0)
    np.testing.assert_array_equal(d_amp, E.PulseTrain(amp=1.0)(t))
    d_onset = jax.jacfwd(lambda o: E.PulseTrain(onset=o)(t))(30.0)
    np.testing.assert_array_equal(d_onset, 0.0)  # piecewise constant


# ---------------------------------------------------------------------- pytrees

# (class, parameter to sweep, its values, fixed parameters)
SWEEPS = [
    (E.PulseTrain, "onset", [10.0, 25.0, 40.0], {"sharpness": 2.0}),
    (E.PulseTrain, "amp", [0.5, -1.0, 2.0], {}),
    (E.Sinusoid, "frequency", [0.01, 0.02, 0.04], {}),
    (E.Cosine, "amp", [0.5, 1.0, 2.0], {}),
    (E.Alpha, "alpha", [0.05, 0.1, 0.2], {"beta": 0.5, "onset": 10.0}),
    (E.GeneralizedSigmoid, "midpoint", [20.0, 50.0, 80.0], {"sigma": 5.0}),
    (E.Linear, "a", [-1.0, 0.0, 2.0], {}),
    (E.Gaussian, "sigma", [5.0, 10.0, 20.0], {"midpoint": 30.0}),
    (E.DoubleGaussian, "sigma_2", [2.0, 5.0, 30.0], {}),
    (E.Sigmoid, "radius", [5.0, 10.0, 30.0], {}),
]
SWEEP_IDS = [f"{c[0].__name__}-{c[1]}" for c in SWEEPS]


@pytest.mark.slow
@pytest.mark.parametrize("cls, name, values, fixed", SWEEPS, ids=SWEEP_IDS)
def test_tree_at_and_vmap(x64, cls, name, values, fixed):
    t = jnp.linspace(-20.0, 150.0, 341)
    fresh = [cls(**fixed, **{name: v})(t) for v in values]
    # eqx.tree_at of the field gives what a freshly built object gives.
    base = cls(**fixed)
    for v, expected in zip(values, fresh):
        changed = eqx.tree_at(lambda e: getattr(e, name), base, jnp.asarray(v))
        np.testing.assert_array_equal(changed(t), expected)
    # vmap over the parameter (objects built inside) equals a Python loop ...
    swept = jax.vmap(lambda v: cls(**fixed, **{name: v})(t))(jnp.asarray(values))
    np.testing.assert_allclose(swept, np.stack(fresh), rtol=1e-14, atol=1e-14)
    # ... and so does a batch of objects mapped over with filter_vmap.
    batch = eqx.filter_vmap(lambda v: cls(**fixed, **{name: v}))(jnp.asarray(values))
    assert getattr(batch, name).shape == (len(values),)
    out = eqx.filter_vmap(lambda e: e(t))(batch)
    np.testing.assert_allclose(out, np.stack(fresh), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("cls, name, values, fixed", SWEEPS, ids=SWEEP_IDS)
def test_parameter_gradient_matches_finite_differences(x64, cls, name, values, fixed):
    t = jnp.linspace(-20.0, 150.0, 171)
    weights = jnp.cos(t / 7.0)  # a generic linear functional of the time course

    def loss(v):
        return jnp.sum(weights * cls(**fixed, **{name: v})(t))

    v = values[1]
    grad = jax.grad(loss)(jnp.asarray(v))
    assert np.isfinite(grad)
    if cls is E.PulseTrain and name == "onset":
        assert abs(grad) > 1e-3  # the smooth form moves with its onset
    np.testing.assert_allclose(grad, _fd(loss, v), rtol=1e-6, atol=1e-8)


def test_alpha_gradient_is_finite_long_before_onset(x64):
    # exp(-alpha (t - onset)) overflows long before the onset; neither the value
    # nor the gradient may see it.
    t = jnp.array([-1e4, 0.0, 20.0])
    f = lambda onset: E.Alpha(onset=onset, alpha=0.5, beta=2.0)(t).sum()  # noqa: E731
    assert np.isfinite(f(10.0)) and np.isfinite(jax.grad(f)(10.0))


def test_jit_with_traced_parameters_skips_checks():
    # Inside jit the values are unknown: no check, no error.
    f = jax.jit(lambda T: E.PulseTrain(T=T, sharpness=1.0)(jnp.array([31.0, 80.0])))
    assert f(42.0).shape == (2,)
    assert jax.jit(lambda s: E.Gaussian(sigma=s)(0.0))(2.0) == 1.0


# ----------------------------------------------------------------------- errors

BAD = [
    (E.PulseTrain, {"T": 0.0}, "T"),
    (E.PulseTrain, {"T": -5.0}, "T"),
    (E.PulseTrain, {"tau": -1.0}, "tau"),
    (E.PulseTrain, {"tau": 50.0, "T": 42.0}, "tau"),
    (E.PulseTrain, {"sharpness": 0.0}, "sharpness"),
    (E.PulseTrain, {"T": jnp.array([10.0, -1.0])}, "T"),
    (E.Alpha, {"alpha": -1.0}, "alpha"),
    (E.Alpha, {"beta": 0.0}, "beta"),
    (E.Alpha, {"alpha": 3.0, "beta": 3.0}, "alpha=..., beta"),
    (E.GeneralizedSigmoid, {"sigma": 0.0}, "sigma"),
    (E.Gaussian, {"sigma": -2.0}, "sigma"),
    (E.DoubleGaussian, {"sigma_1": -1.0}, "sigma_1"),
    (E.DoubleGaussian, {"sigma_2": 0.0}, "sigma_2"),
    (E.Sigmoid, {"sigma": -1.0}, "sigma"),
]


@pytest.mark.parametrize(
    "cls, params, arg", BAD, ids=[f"{c.__name__}-{a}" for c, _, a in BAD]
)
def test_bad_parameters(cls, params, arg):
    with pytest.raises(ValueError, match=rf"`{cls.__name__}\({arg}=\.\.\.\)`"):
        cls(**params)


def test_bad_parameter_messages_say_the_fix():
    with pytest.raises(ValueError, match="give tau = T"):
        E.PulseTrain(tau=50.0)
    with pytest.raises(ValueError, match="None for TVB's exact"):
        E.PulseTrain(sharpness=-1.0)
    with pytest.raises(ValueError, match="got -2.0"):
        E.Gaussian(sigma=-2.0)


def test_wrong_arguments_name_the_parameter():
    with pytest.raises(TypeError, match=r"`Sinusoid\(frequency=...\)` must be a num"):
        E.Sinusoid(frequency="fast")
    with pytest.raises(TypeError, match=r"`Gaussian\(amp=...\)` must be a number"):
        E.Gaussian(amp=None)
    with pytest.raises(TypeError, match="no parameter 'freq'; its parameters are amp"):
        E.Sinusoid(freq=0.1)
    with pytest.raises(TypeError, match="at most 2 parameters"):
        E.Cosine(1.0, 0.1, 3.0)
    # positional arguments (in field order), and None for the mode switch, are fine
    assert float(E.PulseTrain(1.0, 2.0, 1.0, 3.0, None).amp) == 3.0


# ------------------------------------------------------------------------ docs


def _public_classes():
    for module in (nm.equations, nm.stimuli):
        for name in sorted(dir(module)):
            obj = getattr(module, name)
            if not name.startswith("_") and inspect.isclass(obj):
                yield f"{module.__name__}.{name}", obj


@pytest.mark.parametrize(
    "obj", [c for _, c in _public_classes()], ids=[n for n, _ in _public_classes()]
)
def test_docstring_examples_print_what_they_say(obj, capsys):
    """Each concrete class has an `!!! example` that runs; where a `print(...)` line
    ends with a comment starting with a value (`# [0. 1.]`, `# False: ...`), that is
    what it prints."""
    examples = re.findall(r"```python\n(.*?)```", inspect.getdoc(obj), flags=re.S)
    if inspect.isabstract(obj) and not examples:
        return
    assert examples, f"{obj.__name__} has no `!!! example`"
    for code in examples:
        code = textwrap.dedent(code)
        capsys.readouterr()
        exec(compile(code, f"<{obj.__name__} example>", "exec"), {})
        printed = capsys.readouterr().out.splitlines()
        calls = [line for line in code.splitlines() if line.startswith("print(")]
        assert len(printed) == len(calls)
        for line, out in zip(calls, printed):
            said = line.partition("  # ")[2].split(":")[0].strip()
            if said.startswith(("[", "True", "False")):
                assert out.strip() == said, line
