"""Time to build a geodesic-kernel local connectivity of TVB's 16,384-vertex cortex:
neuromass's `LocalConnectivity.from_kernel` (one process, and one process per
hemisphere) against tvb-library's own `LocalConnectivity.compute_sparse_matrix`,
in the same process, one after another, with the same cutoff and TVB's default
kernel (Gaussian, sigma 1 mm). One JSON line per build.

    python benchmarks/surface_build.py --cutoff 40            # about 5-10 minutes
    python benchmarks/surface_build.py --cutoff 10 --skip-tvb

Both call tvb-gdist's `local_gdist_matrix` (TVB's exact geodesic code), which
dominates; tvb-gdist's documentation quotes 81 s per 8,192-vertex hemisphere at
40 mm on its authors' machine. The load average is printed with each line (the
machine may be shared).
"""

import argparse
import json
import os
import time
import warnings

import numpy as np

import neuromass as nm


def _line(**fields):
    fields["load_average"] = round(os.getloadavg()[0], 2)
    print(json.dumps(fields), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cutoff", type=float, default=40.0, help="mm")
    parser.add_argument("--skip-tvb", action="store_true")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    cortex = nm.datasets.load_cortex(local_connectivity=False)
    reference = None
    for workers in args.workers:
        t0 = time.perf_counter()
        lc = nm.datasets.LocalConnectivity.from_kernel(
            cortex, nm.equations.Gaussian(), cutoff=args.cutoff, workers=workers
        )
        seconds = time.perf_counter() - t0
        _line(
            system="neuromass",
            cutoff_mm=args.cutoff,
            workers=workers,
            build_s=round(seconds, 1),
            nnz=lc.nnz,
        )
        reference = lc
    if not args.skip_tvb:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from tvb.datatypes import equations, local_connectivity, surfaces
        surface = surfaces.CorticalSurface(
            vertices=np.asarray(cortex.vertices, dtype=np.float64),
            triangles=np.asarray(cortex.triangles),
            vertex_normals=np.asarray(cortex.vertex_normals, dtype=np.float64),
        )
        surface.configure()
        tvb_lc = local_connectivity.LocalConnectivity(
            surface=surface, cutoff=args.cutoff, equation=equations.Gaussian()
        )
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tvb_lc.compute_sparse_matrix()
        seconds = time.perf_counter() - t0
        same = None
        if reference is not None:
            diff = abs(tvb_lc.matrix.tocsr() - reference.to_scipy()).max()
            same = bool(diff <= 1e-6 * abs(tvb_lc.matrix).max())
        _line(
            system="tvb-library",
            cutoff_mm=args.cutoff,
            workers=1,
            build_s=round(seconds, 1),
            nnz=int(tvb_lc.matrix.nnz),
            same_matrix_as_neuromass=same,
        )


if __name__ == "__main__":
    main()
