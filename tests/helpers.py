"""Small user-defined nodes used as independent references in the tests."""

from typing import ClassVar

import jax.numpy as jnp

import neuromass as nm
from neuromass.models._params import param


class Decay(nm.models.AbstractNode):
    """dv/dt = -gamma v + c (linear, for analytic references)."""

    gamma: jnp.ndarray = param(0.0)
    state_names: ClassVar = ("v",)
    coupled_vars: ClassVar = ("v",)
    default_state: ClassVar = {"v": 1.0}
    state_ranges: ClassVar = {"v": (-1.0, 1.0)}
    input_names: ClassVar = ("v",)

    def vector_field(self, t, state, coupling, inputs=None):
        dv = -self.gamma * state["v"] + coupling.get("v", 0.0)
        if inputs:
            dv = dv + inputs.get("v", 0.0)
        return {"v": dv}


def delay_network(tau, gamma=0.0, k=1.0):
    """The scalar delay equation v'(t) = -gamma v(t) - k v(t - tau)."""
    return nm.Network(
        Decay(gamma=gamma),
        jnp.array([[-1.0]]),
        delays=jnp.array([[tau]]),
        self_connection=True,
        coupling="linear",
        k=k,
    )
