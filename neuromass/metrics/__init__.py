"""Summary statistics of simulated (or recorded) brain activity.

Pure `jax.numpy` functions: they work under `jax.jit`, `jax.vmap` and `jax.grad`, and
treat any leading axes as batch axes. Time series have the layout
`(..., time, nodes)`; time is in ms and frequencies in Hz.
"""

from ._compare import (
    fc_corr as fc_corr,
    fc_mse as fc_mse,
    fcd_ks as fcd_ks,
    log_spectrum_mse as log_spectrum_mse,
)
from ._fc import fc as fc, fcd as fcd, upper_triangle as upper_triangle
from ._spectral import peak_frequency as peak_frequency, psd as psd
from ._sync import (
    analytic_phase as analytic_phase,
    analytic_signal as analytic_signal,
    kuramoto_order as kuramoto_order,
    kuramoto_order_from_signal as kuramoto_order_from_signal,
    metastability as metastability,
)
