"""Axes, spaces and path targeting of `neuromass.sweeps`."""

import inspect

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuromass.sweeps import (
    DataAxis,
    DistributionAxis,
    GridAxis,
    LogGridAxis,
    Space,
    UniformAxis,
    apply_point,
)


class Node(eqx.Module):
    a: float
    b: float | None = None


class Net(eqx.Module):
    k: float
    node: Node
    extra: tuple = (1.0, 2.0)


class ToyNormal:
    """Minimal distribution: anything with `sample(key, sample_shape)` works."""

    def __init__(self, loc, scale):
        self.loc = jnp.asarray(loc, dtype=float)
        self.scale = scale

    def sample(self, key, sample_shape=()):
        shape = tuple(sample_shape) + self.loc.shape
        noise = self.scale * jax.random.normal(key, shape, self.loc.dtype)
        return jnp.broadcast_to(self.loc, shape) + noise


# ---------------------------------------------------------------------------- axes
def test_grid_axis_values_and_shape_broadcast():
    axis = GridAxis(0.0, 2.0, 5)
    assert axis.size == 5
    np.testing.assert_allclose(axis.values(), [0.0, 0.5, 1.0, 1.5, 2.0])
    wide = GridAxis(0.0, 1.0, 3, shape=(4, 2)).values()
    assert wide.shape == (3, 4, 2)
    for i, v in enumerate([0.0, 0.5, 1.0]):
        np.testing.assert_allclose(wide[i], np.full((4, 2), v))
    assert GridAxis(1.0, 2.0, 1).values().tolist() == [1.0]


def test_log_grid_axis():
    vals = np.asarray(LogGridAxis(1e-3, 1e-1, 3).values())
    np.testing.assert_allclose(vals, [1e-3, 1e-2, 1e-1], rtol=1e-6)
    assert vals[0] == np.asarray(1e-3, vals.dtype)
    assert vals[-1] == np.asarray(1e-1, vals.dtype)
    assert LogGridAxis(1.0, 100.0, 2, shape=(3,)).values().shape == (2, 3)


def test_uniform_axis_key_reproducible_and_in_range():
    axis = UniformAxis(-1.0, 3.0, 200)
    v1, v2 = axis.values(jax.random.key(1)), axis.values(jax.random.key(1))
    v3 = axis.values(jax.random.key(2))
    np.testing.assert_array_equal(v1, v2)
    assert not np.allclose(v1, v3)
    assert float(v1.min()) >= -1.0 and float(v1.max()) < 3.0
    with pytest.raises(ValueError, match="needs a key"):
        axis.values()
    b = UniformAxis(0.0, 1.0, 4, shape=(3,)).values(jax.random.key(0))
    assert b.shape == (4, 3)
    np.testing.assert_array_equal(b, np.broadcast_to(b[:, :1], (4, 3)))


def test_data_axis_stacked_matrices():
    mats = np.stack([np.eye(3), 2 * np.eye(3)])
    axis = DataAxis(mats)
    assert axis.size == 2
    np.testing.assert_array_equal(axis.values(), mats)
    assert DataAxis([0.1, 0.2, 0.3]).size == 3
    with pytest.raises(ValueError, match="leading axis"):
        DataAxis(1.0)


def test_distribution_axis_independent_vs_broadcast():
    key = jax.random.key(0)
    ind = DistributionAxis(ToyNormal(0.0, 1.0), 3, sample_shape=(2, 4)).values(key)
    assert ind.shape == (3, 2, 4)
    assert len(np.unique(np.asarray(ind[0]))) == 8  # every element its own draw
    bro = DistributionAxis(
        ToyNormal(0.0, 1.0), 3, sample_shape=(2, 4), independent=False
    ).values(key)
    assert bro.shape == (3, 2, 4)
    for i in range(3):
        np.testing.assert_array_equal(bro[i], np.full((2, 4), bro[i, 0, 0]))
    assert len(np.unique(np.asarray(bro[:, 0, 0]))) == 3
    batched = DistributionAxis(ToyNormal(jnp.zeros(5), 1.0), 6).values(key)
    assert batched.shape == (6, 5)
    with pytest.raises(ValueError, match="needs a key"):
        DistributionAxis(ToyNormal(0.0, 1.0), 3).values()


def test_distribution_axis_with_numpyro():
    dist = pytest.importorskip("numpyro.distributions")
    vals = DistributionAxis(dist.Beta(2.0, 5.0), 500).values(jax.random.key(0))
    assert vals.shape == (500,)
    assert 0.0 < float(vals.min()) and float(vals.max()) < 1.0
    assert abs(float(vals.mean()) - 2.0 / 7.0) < 0.03


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: GridAxis(1.0, 1.0, 3), "low < high"),
        (lambda: GridAxis(2.0, 1.0, 3), "low < high"),
        (lambda: GridAxis(0.0, 1.0, 0), "n="),
        (lambda: UniformAxis(1.0, 0.0, 3), "low < high"),
        (lambda: UniformAxis(0.0, 1.0, -1), "n="),
        (lambda: LogGridAxis(0.0, 1.0, 3), "low="),
        (lambda: LogGridAxis(1.0, -1.0, 3), "high="),
        (lambda: LogGridAxis(2.0, 1.0, 3), "low < high"),
        (lambda: DistributionAxis(object(), 3), "dist="),
        (lambda: DistributionAxis(ToyNormal(0.0, 1.0), 0), "n="),
    ],
)
def test_axis_errors_name_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# --------------------------------------------------------------------------- space
def test_product_space_len_shape_order_and_points():
    space = Space(
        {"k": GridAxis(0.0, 1.0, 4), "a": GridAxis(10.0, 12.0, 3), "dt": 0.1},
        mode="product",
    )
    assert len(space) == 12
    # dict keys are flattened in sorted order: "a" first, then "k"
    assert space.axis_names == ("a", "k")
    assert space.shape == (3, 4)
    points = list(space)
    assert len(points) == 12
    for i, p in enumerate(points):
        ia, ik = np.unravel_index(i, (3, 4))
        assert p["a"] == pytest.approx([10.0, 11.0, 12.0][ia])
        assert p["k"] == pytest.approx(ik / 3)
        assert p["dt"] == 0.1
    assert space[-1]["a"] == pytest.approx(12.0) and space[-1]["k"] == 1.0
    assert space[-2]["k"] == pytest.approx(2 / 3)
    with pytest.raises(IndexError):
        space[12]
    with pytest.raises(IndexError):
        space[-13]


def test_nested_tree_with_modules_lists_and_fixed_values():
    tree = {
        "coupling": {"strength": GridAxis(0.1, 0.8, 2), "delay": 5.0},
        "net": Net(k=GridAxis(0.0, 1.0, 3), node=Node(a=DataAxis([1.0, 2.0]))),
        "lst": [UniformAxis(0.0, 1.0, 2), "label"],
    }
    space = Space(tree, key=jax.random.key(3))
    assert space.axis_names == ("coupling.strength", "lst.0", "net.k", "net.node.a")
    assert space.shape == (2, 2, 3, 2) and len(space) == 24
    p = space[5]
    assert isinstance(p["net"], Net) and isinstance(p["net"].node, Node)
    assert p["coupling"]["delay"] == 5.0 and p["lst"][1] == "label"
    assert p["net"].extra == (1.0, 2.0)
    idx = np.unravel_index(5, space.shape)
    assert p["net"].node.a == [1.0, 2.0][idx[3]]


def test_zip_space_and_truncate():
    tree = {"x": GridAxis(0.0, 1.0, 3), "y": DataAxis([5.0, 6.0, 7.0])}
    space = Space(tree, mode="zip")
    assert len(space) == 3 and space.shape == (3,)
    assert [(float(p["x"]), float(p["y"])) for p in space] == [
        (0.0, 5.0),
        (0.5, 6.0),
        (1.0, 7.0),
    ]
    uneven = {"x": GridAxis(0.0, 1.0, 3), "y": DataAxis([5.0, 6.0])}
    with pytest.raises(ValueError, match="truncate=True"):
        Space(uneven, mode="zip")
    short = Space(uneven, mode="zip", truncate=True)
    assert len(short) == 2 and float(short[-1]["x"]) == 0.5
    with pytest.raises(ValueError, match="mode"):
        Space(tree, mode="grid")


def test_slicing_returns_a_space_with_the_same_points():
    space = Space({"x": GridAxis(0.0, 9.0, 10), "z": 1.0})
    sub = space[2:8:2]
    assert isinstance(sub, Space) and len(sub) == 3
    assert [float(p["x"]) for p in sub] == [2.0, 4.0, 6.0]
    assert float(sub[-1]["x"]) == 6.0
    assert sub.shape == (3,)
    np.testing.assert_array_equal(sub.indices, [2, 4, 6])
    assert len(space[::-1]) == 10 and float(space[::-1][0]["x"]) == 9.0
    masked = space[np.arange(10) % 3 == 0]
    assert [float(p["x"]) for p in masked] == [0.0, 3.0, 6.0, 9.0]
    assert [float(p["x"]) for p in space[[7, 1]]] == [7.0, 1.0]
    assert len(space[5:5]) == 0


def test_stacked_has_leading_batch_axis():
    space = Space(
        {"x": GridAxis(0.0, 1.0, 3), "v": GridAxis(0.0, 1.0, 2, shape=(4,)), "c": 2.0}
    )
    st = space.stacked()
    assert st["x"].shape == (6,) and st["v"].shape == (6, 4) and st["c"].shape == (6,)
    for i, p in enumerate(space):
        assert st["x"][i] == p["x"]
        np.testing.assert_array_equal(st["v"][i], p["v"])
    out = jax.vmap(lambda p: p["x"] * p["c"] + p["v"].sum())(st)
    assert out.shape == (6,)


def test_same_key_same_points():
    tree = {"u": UniformAxis(0.0, 1.0, 5), "g": GridAxis(0.0, 1.0, 2)}
    a = Space(tree, key=jax.random.key(7))
    b = Space(tree, key=jax.random.key(7))
    c = Space(tree, key=jax.random.key(8))
    np.testing.assert_array_equal(a.stacked()["u"], b.stacked()["u"])
    assert not np.allclose(a.stacked()["u"], c.stacked()["u"])
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    with pytest.raises(ValueError, match="needs a key"):
        Space(tree)


def test_fingerprint_tracks_values_fixed_and_slices():
    base = Space({"x": GridAxis(0.0, 1.0, 4), "dt": 0.1})
    assert (
        base.fingerprint()
        == Space({"x": GridAxis(0.0, 1.0, 4), "dt": 0.1}).fingerprint()
    )
    assert (
        base.fingerprint()
        != Space({"x": GridAxis(0.0, 1.0, 5), "dt": 0.1}).fingerprint()
    )
    assert (
        base.fingerprint()
        != Space({"x": GridAxis(0.0, 1.0, 4), "dt": 0.2}).fingerprint()
    )
    assert base.fingerprint() != base[1:].fingerprint()


# ------------------------------------------------------------------ path targeting
def test_apply_point_with_dotted_paths_and_nested_dicts():
    net = Net(k=0.1, node=Node(a=0.2))
    space = Space({"k": GridAxis(0.0, 1.0, 2), "node.a": GridAxis(-1.0, 1.0, 3)})
    p = space[-1]
    new = space.apply(net, p)
    assert new.k == 1.0 and new.node.a == 1.0
    assert net.k == 0.1 and net.node.a == 0.2  # the input is untouched
    nested = apply_point(net, {"node": {"a": 5.0, "b": 3.0}, "extra.1": 9.0})
    assert nested.node.a == 5.0 and nested.node.b == 3.0  # None field replaced
    assert nested.extra == (1.0, 9.0)


@pytest.mark.parametrize("path", ["node.c", "kk", "node.a.x", "extra.5"])
def test_apply_point_unknown_path_names_it(path):
    net = Net(k=0.1, node=Node(a=0.2))
    with pytest.raises(ValueError, match=f"`{path}`"):
        apply_point(net, {path: 1.0})


def test_apply_point_under_vmap():
    net = Net(k=0.1, node=Node(a=0.2))
    space = Space({"k": GridAxis(0.0, 1.0, 4), "node.a": 2.0})

    def f(point):
        m = apply_point(net, point)
        return m.k * m.node.a

    points = {"k": space.stacked()["k"], "node.a": 2.0}
    out = jax.vmap(f, in_axes=({"k": 0, "node.a": None},))(points)
    np.testing.assert_allclose(out, 2.0 * np.linspace(0.0, 1.0, 4), rtol=1e-6)


def test_the_module_and_the_function_have_their_own_names():
    import neuromass
    import neuromass.sweeps as module

    assert inspect.ismodule(module) and module.Space is neuromass.Space
    assert neuromass.sweep is module.sweep and callable(neuromass.sweep)
    assert not inspect.ismodule(neuromass.sweep)
