"""The input protocol: what enters a network's vector field, one object per kind.

The drift of a simulated system is the node's vector field plus what its *inputs*
give at every stage time: the long-range coupling through the connectome (delayed or
instantaneous), external inputs, coloured noise forcing, stimuli, the local coupling
of a cortical surface. The diffusion is what the noise inputs give. Each input is an
`eqx.Module` implementing `AbstractInput`; the simulation loop knows nothing of its
kind.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from .._custom_types import State


class Contribution(eqx.Module):
    """What one input adds at one stage time, by destination:

    - `coupling`: `{coupled variable: (N,)}`, added to the `coupling` argument of the
      node's `vector_field` (the long-range coupling);
    - `inputs`: `{input name: (N,)}`, added to its `inputs` argument (the node's
      `input_names`);
    - `derivative`: `{state variable: (N,)}`, added to the time derivative the node
      returns (forcing, stimuli), including the derivatives of the input's own extra
      state variables.
    - `local`: an operator `x -> L x` (the instantaneous local coupling of a
      surface), passed to nodes that take it (`AbstractNode.local_coupling`).
    """

    coupling: dict = eqx.field(default_factory=dict)
    inputs: dict = eqx.field(default_factory=dict)
    derivative: dict = eqx.field(default_factory=dict)
    local: object = None


class Stage(eqx.Module):
    """Where a stage of a step is evaluated: the step `step` that starts at `tn`
    (ms), the stage's offset `c` (in steps) when it is known at trace time (None
    when a solver's own `step` evaluates the drift at times it chooses), and the
    reader of the delay history for that step (None without a delayed input).

    Inputs that follow The Virtual Brain's semantics of holding a value over a step
    evaluate it at `tn` instead of the stage time.

    `given` holds what an input tabulated ahead for this step (its
    `AbstractInput.tabulate` at the step's offsets `offsets`), or None."""

    tn: Float[Array, ""]
    step: Int[Array, ""]
    reader: object = None
    c: float | None = eqx.field(static=True, default=None)
    given: object = None
    offsets: tuple[float, ...] | None = eqx.field(static=True, default=None)

    def for_input(self, i: int) -> "Stage":
        """This stage as input `i` of the system sees it (its own `given`)."""
        if self.given is None:
            return self
        return Stage(
            tn=self.tn,
            step=self.step,
            reader=self.reader,
            c=self.c,
            given=self.given[i],
            offsets=self.offsets,
        )

    def given_at(self, c: float):
        """The tabulated values at offset `c` (steps) of this step (None when
        nothing was tabulated for this stage)."""
        if self.given is None or self.offsets is None or c is None:
            return None
        k = self.offsets.index(float(c))
        return jax.tree.map(lambda x: x[k], self.given)

    @staticmethod
    def free(t) -> "Stage":
        """A stage at time `t` outside any loop (step 0 starts at `t`)."""
        t = jnp.asarray(t)
        return Stage(tn=t, step=jnp.zeros((), jnp.int32))


class AbstractInput(eqx.Module):
    """Base class of inputs to the vector field (see the module docstring).

    Implement `drift` (and `diffusion` for noise). An input that carries state
    variables of its own (integrated with the network, as the Ornstein-Uhlenbeck
    processes of coloured noise) names them in `extra_state` and gives their initial
    values in `initial_extra`; their derivatives go in its `Contribution.derivative`.

    `drift` and `diffusion` receive the whole state (the node's variables, with the
    node's `state_bounds` applied, and every input's extra variables).
    """

    def drift(self, t, state: State, stage: Stage) -> Contribution:
        """The input's contribution at stage time `t` (ms)."""
        return Contribution()

    def diffusion(self, t, state: State) -> State | None:
        """The diagonal diffusion `{variable: (N,)}` it adds (noise), or None."""
        return None

    def tabulate(self, times: Float[Array, "steps offsets"]):
        """What `drift` needs at the stage times `times`, computed ahead of the
        steps, or None (the default: `drift` computes everything itself).

        A known function of time (a stimulus table) is cheaper to differentiate
        when its values for a stretch of steps are computed at once, outside the
        loop over the steps: its cotangent is then gathered once per stretch
        instead of once per step. The loop passes the result's slice of each step
        in `Stage.given` (`Stage.given_at(c)`)."""
        return None

    def extra_state(self, node) -> tuple[str, ...]:
        """The names of the state variables this input carries (default none)."""
        return ()

    def initial_extra(self, node, n: int, dtype, key) -> State:
        """The initial values `{name: (n,)}` of `extra_state` (`key`: the run's
        random key, or None)."""
        return {}

    def check(self, node, n: int) -> None:
        """Validate the input against the node and the number of nodes (raise a
        `ValueError` naming the argument and the fix)."""

    def checked(self) -> "AbstractInput":
        """This input with run-time checks (`eqx.error_if`) of the values that have a
        domain, for values traced inside `jit`/`vmap`/`grad`, where `check` cannot
        see them: e.g. a noise intensity set to NaN or below zero with
        `eqx.tree_at`. The error names the field."""
        return self
