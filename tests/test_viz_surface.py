"""`nm.viz.plot_surface` and `plot_surface_frames`: the views show the right side
of the right hemisphere, back to front, with the right colours."""

import matplotlib


matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from surface_meshes import two_hemispheres  # noqa: E402

import neuromass as nm  # noqa: E402
from neuromass.datasets import Cortex  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def toy():
    """Two spheres (radius 30 mm) at x = -35 (left) and x = +35 (right) mm."""
    v, t = two_hemispheres(2, radius=30.0)
    n = len(v) // 2
    return Cortex(v, t, np.r_[np.zeros(n, int), np.ones(n, int)])


def _panels(fig):
    return [
        ax
        for ax in fig.axes
        if any(isinstance(c, PolyCollection) for c in ax.collections)
    ]


def _faces(ax):
    (collection,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    return collection


def test_four_views_with_a_colour_bar(toy, tmp_path):
    x = np.asarray(toy.vertices)[:, 0]
    fig = nm.viz.plot_surface(toy, x, colorbar_label="x (mm)", title="toy")
    panels = _panels(fig)
    assert [ax.get_title() for ax in panels] == [
        "left lateral",
        "right lateral",
        "left medial",
        "right medial",
    ]
    assert len(fig.axes) == 5  # and the colour bar
    assert fig.axes[-1].get_ylabel() == "x (mm)"
    fig.savefig(tmp_path / "toy.png", dpi=40)
    assert (tmp_path / "toy.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "view, hemisphere, nearest_is",
    [
        ("lateral", "left", "min"),  # seen from x = -inf: the nearest have small x
        ("medial", "left", "max"),
        ("lateral", "right", "max"),
        ("medial", "right", "min"),
    ],
)
def test_each_view_draws_its_hemisphere_back_to_front(
    toy, view, hemisphere, nearest_is
):
    """Grey colours equal to the (normalised) x coordinate, no shading: the faces
    are drawn far first, near last, and only those of the requested hemisphere."""
    x = np.asarray(toy.vertices)[:, 0]
    fig = nm.viz.plot_surface(
        toy, x, views=(view,), hemispheres=(hemisphere,), cmap="gray", shading=0.0,
        vmin=-70.0, vmax=70.0,
    )  # fmt: skip
    faces = _faces(_panels(fig)[0])
    grey = faces.get_facecolor()[:, 0] * 140.0 - 70.0  # back to x in mm
    side = grey < 0 if hemisphere == "left" else grey > 0
    assert side.all()
    first, last = grey[: len(grey) // 10].mean(), grey[-len(grey) // 10 :].mean()
    assert (last < first) if nearest_is == "min" else (last > first)
    # back faces are culled: about half of the hemisphere's triangles are drawn
    n_hemi = toy.n_triangles // 2
    assert 0.4 * n_hemi < len(grey) < 0.75 * n_hemi


def test_region_values_broadcast_and_nan_is_grey(toy):
    fig = nm.viz.plot_surface(
        toy, np.array([1.0, np.nan]), views=("lateral",), shading=0.0
    )
    left, right = (_faces(ax).get_facecolor() for ax in _panels(fig))
    np.testing.assert_allclose(right[:, :3], 0.75)  # NaN
    assert not np.allclose(left[:, :3], 0.75)
    # None draws the region map, without a colour bar
    fig = nm.viz.plot_surface(toy)
    assert len(fig.axes) == 4


def test_bad_arguments_are_named(toy):
    with pytest.raises(ValueError, match="one entry per vertex"):
        nm.viz.plot_surface(toy, np.ones(1))
    labelled = Cortex(
        toy.vertices, toy.triangles, toy.region_mapping, region_labels=("a", "b")
    )
    with pytest.raises(ValueError, match=r"one per region \(2,\)"):
        nm.viz.plot_surface(labelled, np.ones(3))
    with pytest.raises(ValueError, match="Unknown view 'side'"):
        nm.viz.plot_surface(toy, views=("side",))
    with pytest.raises(ValueError, match="Unknown hemisphere"):
        nm.viz.plot_surface(toy, hemispheres=("top",))
    with pytest.raises(ValueError, match=r"`shading` must be in \[0, 1\]"):
        nm.viz.plot_surface(toy, np.ones(toy.n_vertices), shading=2.0)
    v, t = two_hemispheres(1)
    n = len(v) // 2
    one = Cortex(v[:n] - [0, 0, 0], t[: len(t) // 2], np.zeros(n, int))
    with pytest.raises(ValueError, match="no right hemisphere"):
        nm.viz.plot_surface(one)


def test_frames_share_one_colour_scale(toy):
    x = np.asarray(toy.vertices)[:, 0]
    frames = np.stack([x * k for k in range(5)])
    fig = nm.viz.plot_surface_frames(
        toy, frames, np.arange(5) * 2.5, hemisphere="right", ncols=3, colorbar_label="v"
    )
    panels = _panels(fig)
    assert [ax.get_title() for ax in panels] == [
        "0 ms",
        "2.5 ms",
        "5 ms",
        "7.5 ms",
        "10 ms",
    ]
    assert len(fig.axes) == 3 * 2 + 1  # 6 cells (one empty) and a colour bar
    colorbar = fig.axes[-1]
    np.testing.assert_allclose(colorbar.get_ylim(), [frames.min(), frames.max()])
    with pytest.raises(ValueError, match=r"`times` \(T,\)"):
        nm.viz.plot_surface_frames(toy, frames, np.arange(4))
    with pytest.raises(ValueError, match="at most 48"):
        nm.viz.plot_surface_frames(toy, np.zeros((49, 2)), np.arange(49))


def test_tvb_cortex_views(tmp_path):
    """TVB's 16k cortex: its frame (x anterior, y left) is found from the labels."""
    pytest.importorskip("tvb_data")
    cortex = nm.datasets.load_cortex(local_connectivity=False)
    x = np.asarray(cortex.vertices)[:, 0]
    fig = nm.viz.plot_surface(cortex, x, views=("lateral",), cmap="gray", shading=0.0)
    left, right = _panels(fig)
    # in a left lateral view anterior (large x) is on the left of the picture
    for ax, anterior_on_left in ((left, True), (right, False)):
        faces = _faces(ax)
        paths = faces.get_paths()
        centre_x = np.array([p.vertices[:3, 0].mean() for p in paths])
        value = faces.get_facecolor()[:, 0]
        slope = np.polyfit(centre_x, value, 1)[0]
        assert (slope < 0) if anterior_on_left else (slope > 0)
    fig.savefig(tmp_path / "tvb.png", dpi=40)
