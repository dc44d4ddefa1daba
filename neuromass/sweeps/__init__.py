"""Parameter sweeps: axes, spaces, executors, resumable stores and tidy results.

The module is `neuromass.sweeps`; its function `sweep` is also `neuromass.sweep`
(`nm.sweep(fn, space)`). Until 0.x the module was `neuromass.sweep`, which shared
its name with the function (`import neuromass.sweep as s` gave the function).

!!! example

    ```python
    import jax.numpy as jnp
    from neuromass.sweeps import GridAxis, Space, sweep

    space = Space({"k": GridAxis(0.0, 1.5, 16), "a": GridAxis(-0.2, 0.4, 8)})
    res = sweep(lambda p: {"v": jnp.tanh(p["k"]) + p["a"]}, space, progress=False)
    res.grid("v").shape   # (8, 16): dimensions ("a", "k"), sorted dict keys
    ```
"""

from ._axes import (
    AbstractAxis as AbstractAxis,
    DataAxis as DataAxis,
    DistributionAxis as DistributionAxis,
    GridAxis as GridAxis,
    LogGridAxis as LogGridAxis,
    UniformAxis as UniformAxis,
)
from ._executors import (
    AbstractExecution as AbstractExecution,
    DaskExecution as DaskExecution,
    ParallelExecution as ParallelExecution,
    SequentialExecution as SequentialExecution,
)
from ._result import SweepError as SweepError, SweepResult as SweepResult
from ._space import Space as Space, apply_point as apply_point
from ._sweep import sweep as sweep
