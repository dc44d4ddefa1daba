"""Stimuli as inputs to the vector field."""

import equinox as eqx
from jaxtyping import Array, Float

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
    - `span`: the simulated interval `[t0, t1]` (ms), which the stimulus must cover
      (checked at run time when its times are traced).
    """

    stimulus: object
    variables: tuple[str, ...] = eqx.field(static=True)
    held: bool = eqx.field(static=True, default=False)
    span: Float[Array, "2"] | None = None

    def drift(self, t, state, stage) -> Contribution:
        given = stage.given_at(0.0 if self.held else stage.c)
        if given is not None:
            return Contribution(derivative=given)
        when = stage.tn if self.held else t
        return Contribution(derivative=self.stimulus.by_variable(when, self.variables))

    def tabulate(self, times):
        """The stimulus at the stage times `times`, when it is a table of samples
        (`neuromass.stimuli.TimeSeriesStimulus`, as optimal control builds): the
        gradient with respect to its samples is then gathered per stretch of
        steps. Equations are evaluated in `drift`."""
        if not self.stimulus.tabulated:
            return None
        return self.stimulus.by_variable(times, self.variables)

    def check(self, node, n: int) -> None:
        self.stimulus.check(node, n, self.variables)

    def checked(self) -> "StimulusInput":
        """The input with the stimulus's run-time checks
        (`neuromass.stimuli.AbstractStimulus.checked`)."""
        t0, t1 = (None, None) if self.span is None else self.span
        return StimulusInput(
            self.stimulus.checked(t0, t1),
            self.variables,
            held=self.held,
            span=self.span,
        )
