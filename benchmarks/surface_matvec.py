"""The local-coupling product `L @ x` on TVB's 16,384-vertex cortex: formulations
measured against each other, and the time to build a geodesic-kernel connectivity.

    python benchmarks/surface_matvec.py                       # TVB's precomputed L
    python benchmarks/surface_matvec.py --kernel-cutoff 40 --cache /tmp/d40.npz

Matrices: TVB's `local_connectivity_16384.mat` (98,280 non-zeros, rows of 3-11);
with `--kernel-cutoff C`, also a Gaussian kernel (sigma 5 mm) of the geodesic
distances up to C mm (`LocalConnectivity.from_kernel`; the first run times the
distance computation, later runs read `--cache`).

Formulations of `y = L x` (float32, x of shape (V,)):

- `ell_unrolled`: neuromass's `SparseMatrix.matvec`: padded ELL `(K, V)`, a sum of
  K gathered columns unrolled in the program (blocks of 8 in a `lax.scan` when K >
  16), with a custom reverse-mode rule (the transposed product as a gather over the
  transposed pattern, the weight cotangent as one gather);
- `ell_unrolled_autodiff`: the same product differentiated by JAX (scatters);
- `ell_gather_sum`: the same layout as one `(K, V)` gather, then `sum(0)`;
- `csr_segment_sum`: `segment_sum(data * x[cols], rows)` over the non-zeros;
- `bcoo`: `jax.experimental.sparse.BCOO @ x`;
- `scipy`: scipy's CSR product in NumPy (float64), for reference.

Each is timed as 100 products (10 above a million non-zeros, where the `(K, V)`
gather is left out) chained in a `lax.scan` (`x <- tanh(L x)`, so that
nothing is hoisted), per product (`forward`); and the gradient of the sum of the
last state with respect to the first state (`grad_x`) and to the matrix values
(`grad_values`) through the same scan (forward + backward, per product). The
formulations are timed in alternation (a, b, c, a, b, c, ...), so that all see the
same machine state; the median and the minimum of the runs are printed (on a
shared machine the minimum is the least disturbed). One JSON line per measurement.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).parent))
from _common import apply_env_xla_options, environment  # noqa: E402


apply_env_xla_options()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.experimental import sparse as jsparse  # noqa: E402

import neuromass as nm  # noqa: E402
from neuromass.datasets._sparse import _ell_product  # noqa: E402


N_PRODUCTS = 100


def formulations(lc):
    """name -> (values in that formulation's layout, (values, x) -> L @ x)."""
    pattern = lc.pattern
    cols, _ = pattern.ell
    n = lc.n_vertices
    data = jnp.asarray(lc.data, jnp.float32)
    rows = jnp.asarray(pattern.rows)
    indices = jnp.asarray(pattern.indices)
    ell = jnp.asarray(lc.matrix().weights, jnp.float32)
    cols_j = jnp.asarray(cols)
    coo = jnp.stack([rows, indices], axis=1)
    return {
        "ell_unrolled": (
            ell,
            lambda w, x: nm.datasets.SparseMatrix(w, pattern).matvec(x),
        ),
        "ell_unrolled_autodiff": (ell, lambda w, x: _ell_product(w, cols, x)),
        "ell_gather_sum": (ell, lambda w, x: jnp.sum(w * x[cols_j], axis=0)),
        "csr_segment_sum": (
            data,
            lambda d, x: jax.ops.segment_sum(
                d * x[indices], rows, n, indices_are_sorted=True
            ),
        ),
        "bcoo": (data, lambda d, x: jsparse.BCOO((d, coo), shape=(n, n)) @ x),
    }


def chained(product, n_products):
    def run(w, x0):
        def body(x, _):
            return jnp.tanh(product(w, x)), None

        return jax.lax.scan(body, x0, None, length=n_products)[0]

    return run


def measure(name, lc, repeats):
    fs = formulations(lc)
    n_products = N_PRODUCTS
    if lc.nnz > 10**6:  # a kernel with a large cutoff: fewer, and no (K, V) gather
        n_products = N_PRODUCTS // 10
        del fs["ell_gather_sum"]
    x = jnp.asarray(np.random.default_rng(0).normal(size=lc.n_vertices), jnp.float32)
    reference = lc.to_scipy() @ np.asarray(x, np.float64)
    jitted, compile_s, runs = {}, {}, {}
    for kind in ("forward", "grad_x", "grad_values"):
        for fname, (w, f) in fs.items():
            err = float(np.max(np.abs(np.asarray(jax.jit(f)(w, x)) - reference)))
            assert err < 1e-4 * max(1.0, np.abs(reference).max()), (fname, err)
            run = chained(f, n_products)
            if kind != "forward":
                loss = lambda w, x0, run=run: jnp.sum(run(w, x0))  # noqa: E731
                run = jax.grad(loss, argnums=1 if kind == "grad_x" else 0)
            jitted[fname, kind] = (jax.jit(run), w)
            t0 = time.perf_counter()
            jax.block_until_ready(jitted[fname, kind][0](w, x))
            compile_s[fname, kind] = time.perf_counter() - t0
            runs[fname, kind] = []
    for _ in range(repeats):  # alternate the formulations
        for key, (fn, w) in jitted.items():
            t0 = time.perf_counter()
            jax.block_until_ready(fn(w, x))
            runs[key].append(time.perf_counter() - t0)
    m = lc.to_scipy()
    xs = np.asarray(x, np.float64)
    scipy_runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n_products):
            xs = np.tanh(m @ xs)
        scipy_runs.append(time.perf_counter() - t0)
    env = environment()
    common = dict(
        matrix=name,
        vertices=lc.n_vertices,
        nnz=lc.nnz,
        max_row_nnz=int(lc.pattern.row_nnz.max()),
        jax=env["jax"],
        xla_flags=env["xla_flags"],
        load_average=round(os.getloadavg()[0], 2),
    )
    for (fname, kind), r in runs.items():
        print(
            json.dumps(
                dict(
                    common,
                    formulation=fname,
                    kind=kind,
                    us_per_product=round(1e6 * statistics.median(r) / n_products, 1),
                    us_per_product_min=round(1e6 * min(r) / n_products, 1),
                    compile_s=round(compile_s[fname, kind], 3),
                )
            ),
            flush=True,
        )
    print(
        json.dumps(
            dict(
                common,
                formulation="scipy",
                kind="forward",
                us_per_product=round(
                    1e6 * statistics.median(scipy_runs) / n_products, 1
                ),
                us_per_product_min=round(1e6 * min(scipy_runs) / n_products, 1),
                dtype="float64",
            )
        ),
        flush=True,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kernel-cutoff", type=float, default=None, help="mm")
    parser.add_argument("--cache", type=Path, default=None, help="distance cache")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    cortex = nm.datasets.load_cortex()
    measure("tvb_precomputed", cortex.local_connectivity, args.repeats)
    if args.kernel_cutoff is not None:
        cached = args.cache is not None and args.cache.exists()
        t0 = time.perf_counter()
        lc = nm.datasets.LocalConnectivity.from_kernel(
            cortex,
            nm.equations.Gaussian(sigma=5.0),
            cutoff=args.kernel_cutoff,
            cache=args.cache,
            workers=args.workers,
        )
        build_s = time.perf_counter() - t0
        print(
            json.dumps(
                dict(
                    matrix=f"gaussian_{args.kernel_cutoff:g}mm",
                    kind="build",
                    from_cache=cached,
                    workers=args.workers,
                    build_s=round(build_s, 2),
                    nnz=lc.nnz,
                    max_row_nnz=int(lc.pattern.row_nnz.max()),
                    load_average=os.getloadavg()[0],
                )
            ),
            flush=True,
        )
        measure(f"gaussian_{args.kernel_cutoff:g}mm", lc, args.repeats)


if __name__ == "__main__":
    main()
