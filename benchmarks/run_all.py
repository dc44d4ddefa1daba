"""Run the standard workloads for neuromass and the reference kernel in one go and
print the ratio neuromass / reference of the steady-state times per workload, and for
W1 and W3 the plain call (no jit of the user's own: `nm.simulate(...)`, or
`jax.value_and_grad` of a loss) against neuromass's jitted call.

    python benchmarks/run_all.py                      # W1, W1n (nearest + linear), W2
    python benchmarks/run_all.py --workloads W1 W3    # a subset
    python benchmarks/run_all.py --json out.jsonl     # also keep the raw JSON lines

Each measurement runs in its own process (so that flags such as the number of host
devices apply), one after another; the ratio of two runs in one invocation is the
figure to quote, not the absolute seconds.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path


HERE = Path(__file__).resolve().parent


def _run(script, workload, interp, extra=()):
    cmd = [
        sys.executable,
        str(HERE / script),
        "--workload",
        workload,
        "--interp",
        interp,
        *extra,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout)[-800:]
        return {"error": f"{' '.join(cmd[1:])} failed:\n{tail}"}
    return json.loads(lines[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--workloads",
        nargs="+",
        default=["W1", "W1n", "W2"],
        choices=["W1", "W1n", "W2", "W3"],
    )
    p.add_argument(
        "--interps",
        nargs="+",
        default=["nearest", "linear"],
        choices=["nearest", "linear"],
    )
    p.add_argument("--devices", type=int, default=1, help="host devices for W2")
    p.add_argument("--json", default=None, help="append the raw JSON lines here")
    args = p.parse_args(argv)
    rows = []
    for wl in args.workloads:
        for interp in args.interps:
            extra = ["--devices", str(args.devices)] if wl == "W2" else []
            ref = _run("reference.py", wl, interp, extra)
            nmr = _run("neuromass_bench.py", wl, interp, extra)
            rows.append((wl, interp, ref, nmr))
            for rec in (ref, nmr):
                if "error" in rec:
                    print(rec["error"], file=sys.stderr)
                elif args.json:
                    with open(args.json, "a") as fh:
                        fh.write(json.dumps(rec) + "\n")
    print(
        f"{'workload':9} {'interp':8} {'reference s':>12} {'neuromass s':>12} "
        f"{'ratio':>6} {'nm compile s':>13} {'nm region-steps/s':>18} "
        f"{'plain call s':>13} {'plain/jit':>9}"
    )
    for wl, interp, ref, nmr in rows:
        if "error" in ref or "error" in nmr:
            print(f"{wl:9} {interp:8} {'failed':>12}")
            continue
        ratio = nmr["steady_s"] / ref["steady_s"]
        eager = nmr.get("eager_steady_s", float("nan"))
        print(
            f"{wl:9} {interp:8} {ref['steady_s']:12.3f} {nmr['steady_s']:12.3f} "
            f"{ratio:6.2f} {nmr['compile_s']:13.2f} "
            f"{nmr.get('region_steps_per_s', float('nan')):18.3g} "
            f"{eager:13.3f} {eager / nmr['steady_s']:9.2f}"
        )


if __name__ == "__main__":
    main()
