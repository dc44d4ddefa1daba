"""Stimuli as inputs to the vector field."""

import equinox as eqx

from ._base import AbstractInput, Contribution


class StimulusInput(AbstractInput):
    r"""A stimulus (`neuromass.stimuli`) added to the derivatives of the variables it
    stimulates: $\dot s_v = f_v + S_v(t)$.

    - `stimulus`: the stimulus.
    - `variables`: the variables a stimulus with `variables=None` stimulates (the
      network's coupled variables, The Virtual Brain's `stvar` default).
    - `held`: evaluate the stimulus at the start of each step and hold it over the
      step's stages (`simulate(stimulus_evaluation="step")`): with Heun,
      $X_{n+1} = X_n + \tfrac{\Delta t}{2}(f(X_n) + f(\tilde X)) + \Delta t\,S(t_n)$,
      the update of tvb-library's integrators. Default: at every stage time.
    """

    stimulus: object
    variables: tuple[str, ...] = eqx.field(static=True)
    held: bool = eqx.field(static=True, default=False)

    def drift(self, t, state, stage) -> Contribution:
        when = stage.tn if self.held else t
        return Contribution(derivative=self.stimulus.by_variable(when, self.variables))

    def check(self, node, n: int) -> None:
        self.stimulus.check(node, n, self.variables)
