"""A tour of `neuromass.metrics` on synthetic signals.

Three networks of noisy Kuramoto phase oscillators (about 10 Hz) with weak, medium
and strong all-to-all coupling are generated with NumPy, and every metric is computed
on them, batched over the three networks. Headless; runs in a few seconds
(NEUROMASS_QUICK=1: shorter signals):

    python examples/metrics_tour.py
"""

import os

import jax
import numpy as np

from neuromass import metrics


QUICK = os.environ.get("NEUROMASS_QUICK") == "1"  # the test suite's short run
DT = 1.0  # ms between samples
N_STEPS = 1200 if QUICK else 4000


def kuramoto_signals(coupling, *, n_nodes=12, n_steps=N_STEPS, seed=0):
    """Noisy Kuramoto oscillators, Euler-Maruyama with step `DT` ms.

    `coupling` is in rad/ms. Returns `sin(theta)` plus measurement noise, shape
    `(time, nodes)`.
    """
    rng = np.random.default_rng(seed)
    omega = 2 * np.pi * rng.normal(10.0, 0.5, n_nodes) / 1000.0  # rad/ms
    theta = rng.uniform(0.0, 2 * np.pi, n_nodes)
    phases = np.empty((n_steps, n_nodes))
    for step in range(n_steps):
        pull = np.mean(np.sin(theta[None, :] - theta[:, None]), axis=1)
        noise = 0.05 * np.sqrt(DT) * rng.standard_normal(n_nodes)
        theta = theta + DT * (omega + coupling * pull) + noise
        phases[step] = theta
    return np.sin(phases) + 0.2 * rng.standard_normal(phases.shape)


def main():
    couplings = [0.0, 0.004, 0.02]  # rad/ms
    x = np.stack([kuramoto_signals(k) for k in couplings])  # (3, time, nodes)

    fc = metrics.fc(x)  # (3, nodes, nodes)
    fcd = metrics.fcd(x, window=500.0, step=100.0, dt=DT)  # (3, W, W)
    peaks = metrics.peak_frequency(x, dt=DT, nperseg=1000)  # (3, nodes), Hz
    order = metrics.kuramoto_order_from_signal(x)  # (3, time)
    meta = metrics.metastability(order, kind="order")  # (3,): a batch of R(t)

    # Summaries per network (one batched call each, then plain NumPy for printing).
    mean_fc = np.asarray(metrics.upper_triangle(fc)).mean(axis=-1)
    mean_fcd = np.asarray(metrics.upper_triangle(fcd)).mean(axis=-1)
    median_peak = np.median(np.asarray(peaks), axis=-1)
    mean_order = np.asarray(order).mean(axis=-1)
    print("coupling  mean FC  mean FCD  peak [Hz]  mean R  metastability")
    for row in zip(couplings, mean_fc, mean_fcd, median_peak, mean_order, meta):
        print("{:8.3f}  {:7.3f}  {:8.3f}  {:9.1f}  {:6.3f}  {:13.3f}".format(*row))

    # Scores of every network against the strongly coupled one (batch vs target).
    for name, score in [
        ("fc_corr", metrics.fc_corr(fc, fc[-1])),
        ("fc_mse", metrics.fc_mse(fc, fc[-1])),
        ("fcd_ks", metrics.fcd_ks(fcd, fcd[-1])),
    ]:
        print(f"{name:7s} vs strong:", np.array2string(np.asarray(score), precision=3))

    # Gradients flow through the metrics: the FC loss of the weak network with
    # respect to its signal, and its smooth FCD-KS counterpart.
    def fc_loss(signal):
        return metrics.fc_mse(metrics.fc(signal), fc[-1])

    def fcd_loss(signal):
        own = metrics.fcd(signal, window=500.0, step=100.0, dt=DT)
        return metrics.fcd_ks(own, fcd[-1], smooth=True)

    grads = jax.jit(lambda s: (jax.grad(fc_loss)(s), jax.grad(fcd_loss)(s)))(x[0])
    for name, g in zip(("fc_mse", "fcd_ks(smooth)"), grads):
        print(f"|d {name} / d signal| = {np.linalg.norm(g):.3e}")


if __name__ == "__main__":
    main()
