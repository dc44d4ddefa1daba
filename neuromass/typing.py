"""Public type aliases for annotating your own models, couplings, inputs and
analysis code with the shapes neuromass uses (jaxtyping).

Dimension names are used consistently: `"nodes"` (regions, N), `"times"` (saved
samples, T).

!!! example

    ```python
    import jax.numpy as jnp
    import neuromass as nm
    from neuromass.typing import CouplingInput, State


    class Leaky(nm.models.AbstractNode):
        tau: float = 10.0
        state_names = ("v",)
        coupled_vars = ("v",)
        default_state = {"v": 0.0}
        state_ranges = {"v": (-1.0, 1.0)}

        def vector_field(self, t, state: State, coupling: CouplingInput, inputs=None):
            return {"v": -state["v"] / self.tau + coupling.get("v", 0.0)}


    d = Leaky().vector_field(0.0, {"v": jnp.ones(3)}, {})
    ```
"""

from ._custom_types import (
    Args as Args,
    CouplingInput as CouplingInput,
    Key as Key,
    ParamLike as ParamLike,
    State as State,
    Trajectory as Trajectory,
)


__all__ = ["Args", "CouplingInput", "Key", "ParamLike", "State", "Trajectory"]
