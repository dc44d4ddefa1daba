"""Write your own node model and use it like a built-in one.

Run it with `python examples/custom_model.py` (prints only; works headless;
NEUROMASS_QUICK=1 shortens the runs). The model is a saturating firing-rate
population,

    tau dr/dt = -r + S(w r + I + c),   S(x) = 1 / (1 + exp(-x)),

with local recurrence `w`, a constant drive `I` and the afferent coupling `c`.
"""

import os

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import neuromass as nm


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
T1 = 50.0 if QUICK else 200.0  # ms
N_REGIONS = 8 if QUICK else None  # None: all 76


# --- the model: parameters are fields, metadata are class attributes --------------
class RateNode(nm.models.AbstractNode):
    tau: jnp.ndarray = nm.models.param(10.0)  # ms
    w: jnp.ndarray = nm.models.param(1.5)  # local recurrence
    I: jnp.ndarray = nm.models.param(-1.0)  # noqa: E741  constant drive

    state_names = ("r",)
    coupled_vars = ("r",)
    default_state = {"r": 0.1}
    state_ranges = {"r": (0.0, 1.0)}
    input_names = ("r",)

    def vector_field(self, t, state, coupling, inputs=None):
        r = state["r"]
        drive = self.w * r + self.I + coupling.get("r", 0.0)
        dr = (-r + jax.nn.sigmoid(drive)) / self.tau
        if inputs:
            dr = dr + inputs.get("r", 0.0)
        return {"r": dr}


# ----------------------------------------------------------------------------------
def main() -> None:
    conn = nm.datasets.load_connectome()
    n = N_REGIONS or conn.n_regions
    weights, lengths = conn.weights[:n, :n], conn.lengths[:n, :n]
    net = nm.Network(RateNode(), weights, lengths=lengths, speed=10.0, k=0.05)

    # 1. simulate, exactly like a built-in model
    print("simulating (the first call compiles)...", flush=True)
    sol = nm.simulate(net, t1=T1, dt=0.1, save_every=1.0)
    print("rates:", sol["r"].shape, f"mean {float(sol['r'].mean()):.3f}")

    # 2. sweep a parameter with vmap (one compilation for the whole sweep)
    @eqx.filter_jit
    def mean_rate(net):
        return nm.simulate(net, t1=T1, dt=0.1, save_every=1.0)["r"][-20:].mean()

    ws = jnp.linspace(0.5, 3.0, 6)
    print("sweeping w with vmap (compiling)...", flush=True)
    sweep = eqx.filter_vmap(
        lambda w: mean_rate(eqx.tree_at(lambda n: n.node.w, net, w))
    )
    for w, r in zip(np.asarray(ws), np.asarray(sweep(ws))):
        print(f"  w = {w:.1f}: mean rate {r:.3f}")

    # 3. differentiate a scalar of the trajectory w.r.t. every parameter, and check
    #    the derivative with respect to w against a central finite difference
    print("differentiating (compiling the gradient)...", flush=True)
    grads = eqx.filter_grad(mean_rate)(net)
    h = 1e-2
    w0 = float(net.node.w)
    plus, minus = (
        float(mean_rate(eqx.tree_at(lambda n: n.node.w, net, jnp.asarray(w0 + d))))
        for d in (h, -h)
    )
    print(f"d(mean rate)/dw = {float(grads.node.w):.4f} (finite difference "
          f"{(plus - minus) / (2 * h):.4f}), d/dk = {float(grads.k):.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
