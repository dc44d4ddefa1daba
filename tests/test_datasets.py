import bz2
import io
import json
import sys
import zipfile
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neuromass.datasets import (
    Connectome,
    available_connectomes,
    generate_edr_connectome,
    load_connectome,
)
from neuromass.datasets._generate import _edr_arrays


DEFAULT_FILE = (
    Path(__file__).parents[1] / "neuromass" / "datasets" / "data" / "default_76.npz"
)
TVB_SIZES = {"tvb66": 66, "tvb68": 68, "tvb76": 76, "tvb96": 96, "tvb192": 192}


def _small(weights=None, lengths=None, **kwargs):
    if weights is None:
        weights = np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 4.0], [0.0, 3.0, 1.0]])
    if lengths is None:
        lengths = np.array([[0.0, 20.0, 30.0], [20.0, 0.0, 10.0], [30.0, 10.0, 0.0]])
    return Connectome(weights, lengths, **kwargs)


def _tvb_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _matrix_text(matrix):
    return "\n".join(" ".join(repr(float(v)) for v in row) for row in matrix) + "\n"


# --- the bundled default ---------------------------------------------------


def test_default_shape_labels_and_dtype():
    conn = load_connectome()
    assert load_connectome("default").labels == conn.labels
    assert conn.n_regions == 76
    assert conn.weights.shape == conn.lengths.shape == (76, 76)
    assert conn.centres is not None and conn.centres.shape == (76, 3)
    assert conn.labels[:2] == ("L01", "L02") and conn.labels[37] == "L38"
    assert conn.labels[38:40] == ("R01", "R02") and conn.labels[-1] == "R38"
    assert conn.weights.dtype == jnp.result_type(float)
    assert isinstance(conn.weights, jax.Array)


def test_default_geometry():
    conn = load_connectome()
    c = np.asarray(conn.centres, dtype=np.float64)
    left, right = c[:38], c[38:]
    np.testing.assert_allclose(right, left * np.array([-1.0, 1.0, 1.0]))
    assert (left[:, 0] <= -5.0 + 1e-4).all()
    # Inside the 70 x 85 x 60 mm ellipsoid, outside its inner half.
    rho = np.sqrt(((c / np.array([70.0, 85.0, 60.0])) ** 2).sum(axis=1))
    assert (rho <= 0.9 + 1e-5).all() and (rho >= 0.5 - 1e-5).all()
    # Labels run from anterior (large y) to posterior.
    assert (np.diff(left[:, 1]) <= 0).all()
    # Tract lengths are 1.25 x the straight-line distance between centres.
    dist = np.linalg.norm(c[:, None, :] - c[None, :, :], axis=-1)
    np.testing.assert_allclose(np.asarray(conn.lengths), 1.25 * dist, rtol=1e-5)


def test_default_weights_statistics():
    conn = load_connectome()
    w = np.asarray(conn.weights)
    assert w.max() == 1.0 and w.min() == 0.0
    assert (np.diag(w) == 0).all()
    off_diagonal = w[~np.eye(76, dtype=bool)]
    density = np.count_nonzero(off_diagonal) / off_diagonal.size
    assert 0.20 <= density <= 0.35
    # Every region sends the same number of axons: equal column sums.
    np.testing.assert_allclose(w.sum(axis=0), w.sum(axis=0)[0], rtol=1e-5)
    # Exponential distance rule: strong links are short.
    lengths = np.asarray(conn.lengths)[~np.eye(76, dtype=bool)]
    near = off_diagonal[lengths < np.median(lengths)].mean()
    far = off_diagonal[lengths >= np.median(lengths)].mean()
    assert near > 5 * far
    max_delay = float(conn.delays(10.0).max())
    assert 10.0 <= max_delay <= 20.0


def test_default_file_reproduced_by_generator():
    with np.load(DEFAULT_FILE, allow_pickle=False) as raw:
        params = json.loads(str(raw["edr_parameters"]))
        stored = {key: raw[key] for key in ("weights", "lengths", "centres", "labels")}
        source = str(raw["source"])
    assert params["seed"] == 2013 and params["n_per_hemisphere"] == 38
    fresh = _edr_arrays(**params)
    for key in ("weights", "lengths", "centres"):
        assert fresh[key].dtype == stored[key].dtype == np.float64
        assert np.array_equal(fresh[key], stored[key]), key
    assert list(stored["labels"]) == fresh["labels"]
    regenerated = generate_edr_connectome(**params)
    assert eqx.tree_equal(regenerated, load_connectome())
    assert regenerated.source == source and "seed=2013" in source


def test_generator_seed_and_parameters():
    a = generate_edr_connectome(10, seed=0, decay=0.1)
    b = generate_edr_connectome(10, seed=1, decay=0.1)
    assert a.n_regions == 20 and a.name == "edr_20"
    assert np.array_equal(np.asarray(a.centres), np.asarray(b.centres))
    assert not np.array_equal(np.asarray(a.weights), np.asarray(b.weights))
    dense = generate_edr_connectome(10, seed=0, decay=0.0, axons_per_region=2000)
    assert np.count_nonzero(np.asarray(dense.weights)) == 20 * 19
    with pytest.raises(ValueError, match="tortuosity"):
        generate_edr_connectome(10, tortuosity=0.5)
    with pytest.raises(ValueError, match="shell"):
        generate_edr_connectome(10, shell=(0.9, 0.5))


# --- tvb-data ----------------------------------------------------------------


def _tvb_raw(filename):
    from importlib.resources import files

    data = (files("tvb_data.connectivity") / filename).read_bytes()
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for member in zf.namelist():
            base = member.rsplit("/", 1)[-1]
            text = zf.read(member)
            if base.endswith(".bz2"):
                text, base = bz2.decompress(text), base[: -len(".bz2")]
            out[base] = text.decode()
    return out


def test_tvb76_matches_raw_files():
    pytest.importorskip("tvb_data")
    raw = _tvb_raw("connectivity_76.zip")
    conn = load_connectome("tvb76")
    weights = np.loadtxt(io.StringIO(raw["weights.txt"]))
    lengths = np.loadtxt(io.StringIO(raw["tract_lengths.txt"]))
    lines = [line.split() for line in raw["centres.txt"].splitlines() if line.strip()]
    assert conn.n_regions == 76 and conn.name == "tvb76"
    np.testing.assert_allclose(np.asarray(conn.weights), weights, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(conn.lengths), lengths, rtol=1e-6)
    assert conn.labels == tuple(line[0] for line in lines)
    assert conn.labels[0] == "rA1"
    centres = np.array([[float(v) for v in line[1:4]] for line in lines])
    np.testing.assert_allclose(np.asarray(conn.centres), centres, rtol=1e-6)
    assert "tvb-data" in conn.source and "GPL" in conn.source
    # The workload preparation of WORKLOADS.md: max-normalise, zero diagonal.
    prepared = conn.normalised("max").with_zero_diagonal()
    w = weights / weights.max()
    np.fill_diagonal(w, 0.0)
    np.testing.assert_allclose(np.asarray(prepared.weights), w, rtol=1e-6)
    np.testing.assert_allclose(float(conn.delays(10.0).max()), 15.3485740, rtol=1e-6)


def test_tvb68_reads_bz2_members():
    pytest.importorskip("tvb_data")
    raw = _tvb_raw("connectivity_68.zip")
    conn = load_connectome("TVB68")
    weights = np.loadtxt(io.StringIO(raw["weights.txt"]))
    np.testing.assert_allclose(np.asarray(conn.weights), weights, rtol=1e-6)
    assert conn.labels[0] == "r_lateralorbitofrontal"


@pytest.mark.parametrize("name", ["tvb66", "tvb96", "tvb192"])
def test_tvb_other_sizes(name):
    pytest.importorskip("tvb_data")
    conn = load_connectome(name)
    assert conn.n_regions == TVB_SIZES[name]
    assert len(conn.labels) == TVB_SIZES[name]


def test_tvb_missing_package_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "tvb_data", None)
    monkeypatch.setitem(sys.modules, "tvb_data.connectivity", None)
    with pytest.raises(ImportError, match=r'pip install "neuromass\[data\]"'):
        load_connectome("tvb76")


def test_names_and_unknown_name():
    assert available_connectomes() == [
        "default",
        "tvb66",
        "tvb68",
        "tvb76",
        "tvb96",
        "tvb192",
    ]
    with pytest.raises(ValueError, match="Unknown connectome name 'tvb77'") as info:
        load_connectome("tvb77")
    for name in available_connectomes():
        assert repr(name) in str(info.value)
    with pytest.raises(FileNotFoundError):
        load_connectome("does/not/exist.zip")


# --- files -----------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    conn = _small(
        labels=("a", "b", "c"),
        centres=np.arange(9.0).reshape(3, 3),
        name="small",
        source="hand-written",
    )
    path = conn.save(tmp_path / "small")
    assert path == tmp_path / "small.npz"
    again = load_connectome(path)
    for field in ("weights", "lengths", "centres"):
        assert np.array_equal(getattr(again, field), getattr(conn, field)), field
    assert again.labels == ("a", "b", "c")
    assert again.name == "small" and again.source == "hand-written"
    with np.load(path, allow_pickle=False) as raw:
        assert raw["weights"][1, 2] == 4.0 and str(raw["source"]) == "hand-written"
    bare = _small()
    path = bare.save(tmp_path / "bare.npz")
    again = load_connectome(path)
    assert again.centres is None and again.labels == ("0", "1", "2")
    assert again.name == "bare" and again.source == str(path)


def test_npz_with_object_array_refused(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(
        path,
        weights=np.eye(2),
        lengths=np.zeros((2, 2)),
        labels=np.array(["a", {"code": 1}], dtype=object),
    )
    with pytest.raises(ValueError, match="unpickling"):
        load_connectome(path)


def test_npz_layout_errors(tmp_path):
    future = tmp_path / "future.npz"
    np.savez(future, weights=np.eye(2), lengths=np.eye(2), format_version=99)
    with pytest.raises(ValueError, match="file format 99, newer"):
        load_connectome(future)
    partial = tmp_path / "partial.npz"
    np.savez(partial, weights=np.eye(2))
    with pytest.raises(ValueError, match=r"lacks the array\(s\) \['lengths'\]"):
        load_connectome(partial)
    bad = tmp_path / "bad.npz"
    np.savez(bad, weights=np.eye(2), lengths=np.ones((2, 2)), centres=np.ones(2))
    with pytest.raises(ValueError, match="`Connectome.centres` must have shape"):
        load_connectome(bad)


def test_tvb_zip_nested_and_bz2(tmp_path):
    weights = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, 0.5], [0.0, 3.0, 0.0]])
    lengths = np.array([[0.0, 12.0, 40.0], [12.0, 0.0, 8.0], [40.0, 8.0, 0.0]])
    centres = "ctxA 1.0 2.0 3.0 None\nctxB -1.0 0.5 2.0 None\n\nctxC 0 0 0 None\n"
    path = _tvb_zip(
        tmp_path / "mini.zip",
        {
            "mini/weights.txt.bz2": bz2.compress(_matrix_text(weights).encode()),
            "mini/tract_lengths.txt": _matrix_text(lengths),
            "mini/centres.txt": centres,
            "mini/info.txt": "weights_unit = au",
        },
    )
    conn = load_connectome(str(path))
    assert conn.name == "mini" and conn.labels == ("ctxA", "ctxB", "ctxC")
    np.testing.assert_array_equal(np.asarray(conn.weights), weights)
    np.testing.assert_array_equal(np.asarray(conn.lengths), lengths)
    np.testing.assert_array_equal(
        np.asarray(conn.centres), [[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0], [0, 0, 0]]
    )


@pytest.mark.parametrize("member", ["../evil", "a/../../evil", "/etc/evil", "C:/x"])
def test_zip_with_unsafe_member_refused(tmp_path, member):
    path = _tvb_zip(
        tmp_path / "evil.zip",
        {
            "weights.txt": "0 1\n1 0\n",
            "tract_lengths.txt": "0 1\n1 0\n",
            member: "payload",
        },
    )
    with pytest.raises(ValueError, match="absolute path or a '..' component"):
        load_connectome(path)


def test_zip_content_errors(tmp_path):
    missing = _tvb_zip(tmp_path / "missing.zip", {"weights.txt": "0 1\n1 0\n"})
    with pytest.raises(ValueError, match="tract_lengths.txt"):
        load_connectome(missing)
    negative = _tvb_zip(
        tmp_path / "negative.zip",
        {"weights.txt": "0 1\n1 0\n", "tract_lengths.txt": "0 -3\n1 0\n"},
    )
    with pytest.raises(ValueError, match="`Connectome.lengths` contains 1 negative"):
        load_connectome(negative)
    text = _tvb_zip(
        tmp_path / "text.zip",
        {"weights.txt": "0 x\n1 0\n", "tract_lengths.txt": "0 1\n1 0\n"},
    )
    with pytest.raises(ValueError, match="numeric matrix"):
        load_connectome(text)
    other = tmp_path / "weights.csv"
    other.write_text("0,1\n1,0\n")
    with pytest.raises(ValueError, match="unsupported file type '.csv'"):
        load_connectome(other)


# --- validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"weights": np.ones((3, 2))}, r"`Connectome.weights` must be a square"),
        ({"weights": np.ones(3)}, r"`Connectome.weights` must be a square"),
        ({"lengths": np.ones((2, 2))}, r"`Connectome.lengths` must have the same"),
        ({"centres": np.ones((3, 2))}, r"`Connectome.centres` must have shape"),
        ({"labels": ("a", "b")}, r"`Connectome.labels` must have one entry"),
        ({"labels": ("a", "b", "a")}, r"must be unique; \['a'\]"),
        ({"labels": "abc"}, r"single string"),
        ({"weights": np.full((3, 3), np.nan)}, r"weights` contains 9 non-finite"),
        ({"lengths": np.diag([0.0, np.inf, 0.0])}, r"lengths` contains 1 non-finite"),
        ({"weights": -np.eye(3)}, r"weights` contains 3 negative"),
        ({"lengths": -np.ones((3, 3))}, r"lengths` contains 9 negative"),
        ({"centres": np.full((3, 3), np.nan)}, r"centres` contains non-finite"),
        ({"weights": np.eye(3) * 1j}, r"must hold real numbers"),
    ],
)
def test_validation_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _small(**kwargs)


def test_delays():
    conn = _small()
    np.testing.assert_allclose(
        np.asarray(conn.delays(10.0)), np.asarray(conn.lengths) / 10.0
    )
    assert float(conn.delays(5.0)[0, 2]) == pytest.approx(6.0)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="`speed` must be a finite, positive"):
            conn.delays(bad)
    with pytest.raises(ValueError, match="scalar"):
        conn.delays(jnp.ones(2))
    with pytest.raises(RuntimeError, match="`speed` must be > 0"):
        jax.jit(lambda v: conn.delays(v))(-1.0).block_until_ready()
    grad = jax.grad(lambda v: conn.delays(v).sum())(2.0)
    assert float(grad) == pytest.approx(-120.0 / 2.0**2)


def test_normalisations_hand_computed():
    conn = _small()  # weights [[0,2,0],[1,0,4],[0,3,1]]
    np.testing.assert_allclose(
        np.asarray(conn.normalised().weights),
        [[0, 0.5, 0], [0.25, 0, 1], [0, 0.75, 0.25]],
    )
    np.testing.assert_allclose(
        np.asarray(conn.normalised("row_sum").weights),
        [[0, 1, 0], [0.2, 0, 0.8], [0, 0.75, 0.25]],
        rtol=1e-6,
    )
    log5 = np.log(5.0)
    np.testing.assert_allclose(
        np.asarray(conn.normalised("log").weights),
        [
            [0, np.log(3.0) / log5, 0],
            [np.log(2.0) / log5, 0, 1],
            [0, np.log(4.0) / log5, np.log(2.0) / log5],
        ],
        rtol=1e-6,
    )
    np.testing.assert_array_equal(
        np.asarray(conn.with_zero_diagonal().weights),
        [[0, 2, 0], [1, 0, 4], [0, 3, 0]],
    )
    zero = _small(weights=np.zeros((3, 3)))
    for kind in ("max", "row_sum", "log"):
        assert not np.asarray(zero.normalised(kind).weights).any()
    assert conn.normalised().lengths is conn.lengths
    with pytest.raises(ValueError, match="'max', 'row_sum', 'log'"):
        conn.normalised("sum")


def test_connectome_under_jit():
    conn = _small(labels=("a", "b", "c"))

    @jax.jit
    def afferent(c, x):
        c = c.normalised("row_sum").with_zero_diagonal()
        return c.weights @ x

    out = afferent(conn, jnp.array([1.0, 10.0, 100.0]))
    np.testing.assert_allclose(np.asarray(out), [10.0, 80.2, 7.5], rtol=1e-6)
    rebuilt = jax.jit(lambda w: Connectome(w, w, labels=("a", "b", "c")))(conn.weights)
    assert rebuilt.labels == ("a", "b", "c")
