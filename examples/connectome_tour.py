"""A tour of `neuromass.datasets`: load, inspect, rescale, save and reload.

Run it with `python examples/connectome_tour.py`. It only prints summaries, so it
works headless. The TVB part runs when the optional `tvb-data` package is
installed (`pip install "neuromass[data]"`).
"""

import tempfile
from pathlib import Path

import numpy as np

import neuromass.datasets as ds


def summarise(conn: ds.Connectome, speed: float = 10.0) -> None:
    w = np.asarray(conn.weights)
    n = conn.n_regions
    off_diagonal = w[~np.eye(n, dtype=bool)]
    in_strength = w.sum(axis=1)  # [to, from]: a row sums the inputs of one region
    print(f"{conn.name}: {n} regions ({conn.labels[0]} ... {conn.labels[-1]})")
    print(f"  source       : {conn.source}")
    print(f"  non-zero     : {np.count_nonzero(off_diagonal) / off_diagonal.size:.1%}")
    print(f"  weights      : max {w.max():.3g}, diagonal sum {np.trace(w):.3g}")
    print(f"  in-strength  : {in_strength.min():.3g} .. {in_strength.max():.3g}")
    delays = np.asarray(conn.delays(speed))
    print(f"  max delay    : {delays.max():.2f} ms at {speed} mm/ms")


def main() -> None:
    print("available:", ", ".join(ds.available_connectomes()))

    default = ds.load_connectome()
    summarise(default)

    # The default is reproducible from its recorded parameters.
    again = ds.generate_edr_connectome()
    same = np.array_equal(np.asarray(again.weights), np.asarray(default.weights))
    print("regenerated default identical:", same)

    # A smaller, more local EDR network.
    summarise(ds.generate_edr_connectome(n_per_hemisphere=20, decay=0.15, seed=7))

    # Rescalings return new connectomes.
    for kind in ("max", "row_sum", "log"):
        w = np.asarray(default.normalised(kind).weights)
        row_sum = w.sum(axis=1).mean()
        print(f"normalised({kind!r}): max {w.max():.3f}, mean row sum {row_sum:.3f}")

    with tempfile.TemporaryDirectory() as tmp:
        path = default.save(Path(tmp) / "default_copy.npz")
        loaded = ds.load_connectome(path)
        equal = loaded.labels == default.labels and np.array_equal(
            np.asarray(loaded.weights), np.asarray(default.weights)
        )
        print("save/load round trip equal:", equal)

    try:
        tvb = ds.load_connectome("tvb76")
    except ImportError as e:
        print("skipping tvb76:", e)
    else:
        summarise(tvb.normalised("max").with_zero_diagonal())


if __name__ == "__main__":
    main()
