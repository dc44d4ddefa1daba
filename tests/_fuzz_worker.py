"""Worker of `test_files.py`: load damaged copies of files, one line per copy.

`python _fuzz_worker.py OUTDIR STEP KIND FILE [KIND FILE ...]` flips (XOR 0xFF) the
byte at each position of `range(0, size, STEP)` plus the first 64 and last 160
bytes of each file, loads the copy and prints `[kind, position, outcome, seconds,
message]` as JSON:
`error` (a ValueError whose message names the file), `identical` (the data and
attributes of the original, bit for bit), `altered`, or `crash` (anything else).
"""

import json
import pathlib
import sys
import time

import numpy as np


def _load(kind, path):
    import neuromass as nm

    if kind in ("solution-npz", "solution-nc"):
        sol = nm.Solution.load(path)
        import equinox as eqx
        import jax

        arrays = jax.tree.leaves(eqx.filter(sol, eqx.is_array))
        return [np.asarray(a) for a in arrays], (sol.stats, sol.attrs)
    if kind == "connectome":
        conn = nm.datasets.load_connectome(path)
        arrays = [np.asarray(conn.weights), np.asarray(conn.lengths)]
        if conn.centres is not None:
            arrays.append(np.asarray(conn.centres))
        return arrays, (conn.labels, conn.name, conn.source)
    if kind == "sweep-result":
        from neuromass.sweeps import SweepResult

        res = SweepResult.load(path)
        cols = [res.index, res.status]
        for d in (res.params, res.outputs, res.coords):
            cols += [np.asarray(v) for v in d.values()]
        return cols, (list(res.params), list(res.outputs), res.grid_shape)
    raise ValueError(kind)


def _same(a, b):
    arrays_a, meta_a = a
    arrays_b, meta_b = b
    if len(arrays_a) != len(arrays_b) or meta_a != meta_b:
        return False
    return all(
        x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
        for x, y in zip(arrays_a, arrays_b)
    )


def main():
    import warnings

    outdir, step, *pairs = sys.argv[1:]
    for kind, original in zip(pairs[::2], pairs[1::2]):
        original = pathlib.Path(original)
        data = original.read_bytes()
        reference = _load(kind, original)
        n = len(data)
        positions = set(range(0, n, int(step)))
        positions |= set(range(min(64, n))) | set(range(max(0, n - 160), n))
        copy = pathlib.Path(outdir) / ("damaged-" + original.name)
        for i in sorted(positions):
            copy.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])
            t = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")  # e.g. "cannot be verified"
                    got = _load(kind, copy)
            except ValueError as e:
                outcome = "error" if str(copy) in str(e) else "unnamed"
                message = str(e)
            except Exception as e:  # noqa: BLE001 - reported, and fails the test
                outcome, message = "crash", f"{type(e).__name__}: {e}"
            else:
                outcome = "identical" if _same(got, reference) else "altered"
                message = ""
            seconds = time.perf_counter() - t
            line = [kind, i, outcome, round(seconds, 4), message[:300]]
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
