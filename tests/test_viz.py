"""`neuromass.viz`: the plots draw headless and show the right data."""

import matplotlib


matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from neuromass.sweeps import (  # noqa: E402
    DataAxis,
    GridAxis,
    LogGridAxis,
    Space,
    SweepResult,
    sweep,
)
from neuromass.viz import (  # noqa: E402
    heatmap,
    line,
    plot_carpet,
    plot_matrix,
    plot_timeseries,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def grid_result(**axes):
    space = Space(axes or {"a": GridAxis(0.0, 1.0, 3), "k": GridAxis(-1.0, 1.0, 5)})

    def fn(p):  # 10 a + the other parameters
        return {"v": p["a"] * 10 + sum(v for name, v in p.items() if name != "a")}

    return sweep(fn, space, progress=False)


def centres(edges):
    return (edges[:-1] + edges[1:]) / 2


def test_heatmap_cells_sit_on_axis_values(tmp_path):
    res = grid_result()
    ax = heatmap(res, "v", x="k", y="a")
    mesh = ax.collections[0]
    coords = mesh.get_coordinates()  # (ny + 1, nx + 1, 2) cell corners
    assert coords.shape == (4, 6, 2)
    np.testing.assert_allclose(
        centres(coords[0, :, 0]), np.linspace(-1, 1, 5), atol=1e-6
    )
    np.testing.assert_allclose(centres(coords[:, 0, 1]), [0.0, 0.5, 1.0], atol=1e-6)
    data = np.asarray(mesh.get_array()).reshape(3, 5)
    np.testing.assert_allclose(data, res.grid("v"), rtol=1e-6)  # rows a, columns k
    assert ax.get_xlabel() == "k" and ax.get_ylabel() == "a"
    colorbars = [a for a in ax.figure.axes if a is not ax]
    assert len(colorbars) == 1 and colorbars[0].get_ylabel() == "v"
    ax.figure.savefig(tmp_path / "heat.png")
    assert (tmp_path / "heat.png").stat().st_size > 0
    # one tick per swept value, at the centre of its cell, labelled with it
    np.testing.assert_allclose(ax.get_xticks(), np.linspace(-1, 1, 5), atol=1e-6)
    np.testing.assert_allclose(ax.get_yticks(), [0.0, 0.5, 1.0], atol=1e-6)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "0.5", "1"]


def test_plot_labels_with_units():
    res = grid_result()
    ax = heatmap(
        res, "v", x="k", y="a", xlabel="k (1/ms)", ylabel="Hopf a (1/ms)", label="r"
    )
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("k (1/ms)", "Hopf a (1/ms)")
    assert [a for a in ax.figure.axes if a is not ax][0].get_ylabel() == "r"
    ax = line(res, "v", x="k", xlabel="k (1/ms)", ylabel="mean FC")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("k (1/ms)", "mean FC")
    many = grid_result(a=GridAxis(0.0, 1.0, 30), k=GridAxis(0.0, 1.0, 3))
    ax = heatmap(many, "v", x="k", y="a")  # 30 values: matplotlib's own ticks
    assert len(ax.get_yticks()) < 30


def test_heatmap_defaults_transpose_and_masking():
    res = grid_result()
    ax = heatmap(res, "v")  # y = first axis ("a"), x = second ("k")
    assert ax.get_xlabel() == "k" and ax.get_ylabel() == "a"
    ax2 = heatmap(res, "v", x="a")
    data = np.asarray(ax2.collections[0].get_array()).reshape(5, 3)
    np.testing.assert_allclose(data, res.grid("v").T, rtol=1e-6)
    partial = res[res.table["v"] > 0]
    ax3 = heatmap(partial, "v")
    arr = ax3.collections[0].get_array()
    assert np.ma.count_masked(arr) == int((res.table["v"] <= 0).sum())


def test_heatmap_log_axis_and_more_axes():
    res = grid_result(
        a=GridAxis(0.0, 1.0, 2), r=LogGridAxis(1e-3, 1e-1, 3), s=DataAxis([1.0, 2.0])
    )
    with pytest.raises(ValueError, match="x=.*y="):
        heatmap(res, "v")
    with pytest.raises(ValueError, match="reduce"):
        heatmap(res, "v", x="r", y="a")
    ax = heatmap(res, "v", x="r", y="a", reduce=np.nanmean)
    assert ax.get_xscale() == "log"
    edges = ax.collections[0].get_coordinates()[0, :, 0]
    np.testing.assert_allclose(
        np.exp(centres(np.log(edges))), [1e-3, 1e-2, 1e-1], rtol=1e-5
    )
    np.testing.assert_allclose(
        np.asarray(ax.collections[0].get_array()).reshape(2, 3),
        np.nanmean(res.grid("v"), axis=2),
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="not a swept axis"):
        heatmap(res, "v", x="nope", y="a")


def test_heatmap_needs_a_grid():
    zipped = sweep(
        lambda p: {"v": p["a"]},
        Space({"a": GridAxis(0.0, 1.0, 3), "b": GridAxis(0.0, 1.0, 3)}, mode="zip"),
        progress=False,
    )
    with pytest.raises(ValueError, match="product"):
        heatmap(zipped, "v")
    with pytest.raises(KeyError, match="no output"):
        heatmap(grid_result(), "missing")


def test_line_one_and_two_axes():
    one = sweep(
        lambda p: {"amp": 2.0 * p["a"]},
        Space({"a": GridAxis(0.0, 1.5, 4)}),
        progress=False,
    )
    ax = line(one, "amp")
    (ln,) = ax.lines
    np.testing.assert_allclose(ln.get_xdata(), np.linspace(0, 1.5, 4), rtol=1e-6)
    np.testing.assert_allclose(ln.get_ydata(), 2 * np.linspace(0, 1.5, 4), rtol=1e-6)
    assert ax.get_xlabel() == "a" and ax.get_ylabel() == "amp"
    res = grid_result()
    ax2 = line(res, "v", x="k")
    assert len(ax2.lines) == 3
    labels = [t.get_text() for t in ax2.get_legend().get_texts()]
    assert labels == ["a=0", "a=0.5", "a=1"]
    np.testing.assert_allclose(ax2.lines[2].get_ydata(), res.grid("v")[2], rtol=1e-6)
    with pytest.raises(ValueError, match="x="):
        line(res, "v")


def test_line_on_zip_result_sorts_by_x():
    res = sweep(
        lambda p: {"v": p["x"] ** 2},
        Space({"x": DataAxis([0.5, 0.1, 0.3])}, mode="zip"),
        progress=False,
    )
    ax = line(res, "v")
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.1, 0.3, 0.5], rtol=1e-6)


def test_plot_matrix_image_labels_and_errors():
    m = np.arange(16.0).reshape(4, 4)
    m[0, 1] = np.nan
    ax = plot_matrix(m, labels=list("ABCD"), title="W", cmap="magma")
    image = ax.images[0]
    np.testing.assert_array_equal(np.ma.filled(image.get_array(), -1)[1:], m[1:])
    assert np.ma.is_masked(image.get_array()[0, 1])
    assert [t.get_text() for t in ax.get_xticklabels()] == list("ABCD")
    assert ax.get_title() == "W" and len(ax.figure.axes) == 2  # with a colorbar
    with pytest.raises(ValueError, match="2-D"):
        plot_matrix(np.ones(3))
    with pytest.raises(ValueError, match="labels"):
        plot_matrix(np.ones((3, 3)), labels=["a"])
    fig, given = plt.subplots()
    assert plot_matrix(np.ones((2, 5)), ax=given, colorbar=False) is given


def test_plot_timeseries_limits_traces():
    ts = np.linspace(0.0, 10.0, 50)
    ys = np.sin(ts[:, None] + np.arange(10))
    ax = plot_timeseries(ts, ys, max_traces=3, lw=0.5)
    assert len(ax.lines) == 3
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), ts)
    np.testing.assert_array_equal(ax.lines[-1].get_ydata(), ys[:, 9])
    assert ax.get_xlabel() == "time (ms)"
    single = plot_timeseries(ts, ys[:, 0], labels=["x0"])
    assert len(single.lines) == 1 and single.get_legend() is not None
    with pytest.raises(ValueError, match="T = len"):
        plot_timeseries(ts[:-1], ys)


def test_plots_accept_saved_results(tmp_path):
    res = grid_result()
    res.save(tmp_path / "r.npz")
    back = SweepResult.load(tmp_path / "r.npz")
    ax = heatmap(back, "v")
    np.testing.assert_allclose(
        np.asarray(ax.collections[0].get_array()).reshape(3, 5), res.grid("v")
    )


def test_plot_carpet_draws_regions_against_time():
    ts = np.linspace(0.0, 10.0, 11)
    ys = np.sin(ts[:, None] + np.arange(76))  # (11, 76)
    ys[3, 5] = np.nan
    ax = plot_carpet(ts, ys, colorbar_label="x (mV)", title="carpet")
    image = ax.images[0]
    data = image.get_array()
    np.testing.assert_array_equal(np.ma.filled(data, 9.0)[:, :3], ys.T[:, :3])
    assert np.ma.is_masked(data[5, 3])
    assert image.get_extent() == [-0.5, 10.5, 75.5, -0.5]  # cells centred on ts
    lo, hi = image.get_clim()
    finite = ys[np.isfinite(ys)]
    assert (lo, hi) == (np.percentile(finite, 1), np.percentile(finite, 99))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("time (ms)", "region")
    assert ax.figure.axes[-1].get_ylabel() == "x (mV)" and ax.get_title() == "carpet"
    few = plot_carpet(ts, ys[:, :4], labels=list("abcd"))
    assert [t.get_text() for t in few.get_yticklabels()] == list("abcd")
    with pytest.raises(ValueError, match="T = len"):
        plot_carpet(ts[:-1], ys)
    with pytest.raises(ValueError, match="`labels` must have 76"):
        plot_carpet(ts, ys, labels=["a"])
