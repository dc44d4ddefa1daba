"""What a stimulus and optimal control cost on W1 (WORKLOADS.md: the 76-region
delayed Hopf network, 1 s at dt = 0.1 ms, x saved every 1 ms, float32).

Three measurements, each a ratio of medians within this one process, the calls
alternated so that the machine's load affects both sides alike:

1. `stimulus`: plain `nm.simulate` calls with and without a `RegionStimulus`
   (a 40 Hz sinusoid on 3 regions, on x), as a user makes them (no jit of their
   own). Target: at most 1.10.
2. `W1 control iteration`: one iteration of `nm.control.optimal_control` on W1's
   network (the control on x and y of all 76 regions on a 1 ms grid, 1001 x 76 x 2
   samples, and on a 10 ms grid, 101 x 76 x 2; a target trajectory and the
   energy; Adam): the wall time between two callbacks of the running loop (value,
   gradient, update and the host's reads), against a forward run of the
   controlled simulation and of W1 itself, measured before and after the loop.
   Target: at most 3.
3. `W1 control value_and_grad`: the cost's value and gradient alone
   (`ControlProblem.smooth` under `eqx.filter_jit`) for each grid, alternated
   with the forward runs and with the value and gradient of the same kind of loss
   with respect to the coupling `k` alone (what the core's adjoint costs without
   the control's own cotangents).

    python benchmarks/stimulus_bench.py [--interp linear] [--repeats 15]

Prints one JSON line per measurement (`_common.report`).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def _alternate(fns: dict, repeats: int) -> dict:
    """Median seconds of each function, called in turn `repeats` times after one
    warm-up call each."""
    import jax

    for f in fns.values():
        jax.block_until_ready(f())
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, f in fns.items():
            t = time.perf_counter()
            jax.block_until_ready(f())
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(v) for name, v in times.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--interp", choices=["nearest", "linear"], default="linear")
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--steps", type=int, default=12, help="control iterations")
    p.add_argument(
        "--spacings",
        type=float,
        nargs="+",
        default=[1.0, 10.0],
        help="control grid spacings (ms)",
    )
    args = p.parse_args(argv)
    C.apply_env_xla_options()

    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import optax
    from neuromass_bench import build_network

    import neuromass as nm

    conn = C.load_connectome(quiet=True)
    net = build_network(conn, nm, jnp)
    n = conn.n
    kw = dict(
        t1=C.T1,
        dt=C.DT,
        save_every=C.SAVE_EVERY,
        transient=C.SAVE_EVERY,
        y0={"x": C.X0, "y": C.X0},
        interpolation=args.interp,
        variables=("x",),
    )
    common = dict(system="neuromass", interp=args.interp, n=n, connectome=conn.source)

    # 1. a stimulus on W1
    weights = jnp.zeros(n, jnp.float32).at[jnp.array([10, 48, 60])].set(0.1)
    stim = nm.stimuli.RegionStimulus(
        weights, nm.equations.Sinusoid(amp=1.0, frequency=0.04), variables="x"
    )
    t = _alternate(
        {
            "plain": lambda: nm.simulate(net, **kw)["x"],
            "stimulus": lambda: nm.simulate(net, stimulus=stim, **kw)["x"],
        },
        args.repeats,
    )
    C.report(
        workload="W1+stimulus",
        plain_s=t["plain"],
        stimulus_s=t["stimulus"],
        ratio=t["stimulus"] / t["plain"],
        **common,
    )

    # 2. optimal control on W1's network: the running loop, on a 1 ms and a 10 ms
    # control grid (1001 and 101 samples per region and variable)
    saved = round((C.T1 - C.SAVE_EVERY) / C.SAVE_EVERY) + 1
    target = {"x": jnp.zeros((saved, n), jnp.float32)}
    cost = nm.control.TargetTrajectory(target) + 1e-3 * nm.control.Energy()
    smooth = eqx.filter_jit(
        lambda p, u: jax.value_and_grad(lambda v: p.smooth(v)[0])(u)
    )
    problems = {}
    for spacing in args.spacings:
        grid = nm.control.ControlGrid(spacing=spacing)  # x and y of every region
        problem = nm.control.ControlProblem(net, cost, grid, **kw)
        u = 0.01 * jnp.ones_like(problem.initial)
        problems[spacing] = (problem, u)
        controlled = problem.stimulus(u)

        def forwards(controlled=controlled):
            return _alternate(
                {
                    "plain": lambda: nm.simulate(net, **kw)["x"],
                    "controlled": lambda: nm.simulate(net, stimulus=controlled, **kw)[
                        "x"
                    ],
                },
                max(3, args.repeats // 3),
            )

        before = forwards()
        stamps = []
        nm.control.optimal_control(
            net,
            cost,
            grid,
            optimizer=optax.adam(1e-3),
            steps=args.steps,
            progress=False,
            callback=lambda s, st, c, stamps=stamps: stamps.append(time.perf_counter()),
            **kw,
        )
        after = forwards()
        step_s = statistics.median(b - a for a, b in zip(stamps[1:], stamps[2:]))
        plain = statistics.median([before["plain"], after["plain"]])
        fwd = statistics.median([before["controlled"], after["controlled"]])
        C.report(
            workload="W1 control iteration",
            spacing_ms=spacing,
            samples=list(problem.initial.shape),
            step_s=step_s,
            controlled_forward_s=fwd,
            plain_forward_s=plain,
            ratio_to_controlled_forward=step_s / fwd,
            ratio_to_plain_forward=step_s / plain,
            **common,
        )

    # 3. where the time goes: value and gradient alone, alternated with the forward
    # runs; the gradient with respect to the coupling `k` alone is what the core's
    # adjoint costs without the control's own cotangents
    problem, u = problems[args.spacings[0]]
    controlled = problem.stimulus(u)

    def loss_k(k):
        sol = nm.simulate(eqx.tree_at(lambda m: m.k, net, k), stimulus=controlled, **kw)
        return 0.5 * jnp.sum(sol["x"] ** 2)

    grad_k = jax.jit(jax.value_and_grad(loss_k))
    k0 = jnp.asarray(C.K, jnp.float32)
    fns = {
        "plain": lambda: nm.simulate(net, **kw)["x"],
        "controlled": lambda: nm.simulate(net, stimulus=controlled, **kw)["x"],
        "grad_k": lambda: grad_k(k0),
    }
    for spacing, (p_, u_) in problems.items():
        fns[f"grad_u_{spacing:g}ms"] = lambda p_=p_, u_=u_: smooth(p_, u_)
    t = _alternate(fns, args.repeats)
    C.report(
        workload="W1 control value_and_grad",
        seconds=t,
        ratio_to_plain={k: v / t["plain"] for k, v in t.items()},
        **common,
    )


if __name__ == "__main__":
    main()
