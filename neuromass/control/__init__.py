"""Optimal control: the stimulus that drives a network to a target.

`neuromass.control.optimal_control` descends a cost (a distance to a target
trajectory, FC or synchrony, plus the energy and the sparsity of the control)
through the simulation with Optax; the control is a
`neuromass.stimuli.TimeSeriesStimulus` on a `neuromass.control.ControlGrid`.
"""

from ._cost import (
    AbstractCostTerm as AbstractCostTerm,
    AbstractPrecision as AbstractPrecision,
    Cost as Cost,
    Energy as Energy,
    Precision as Precision,
    Sparsity as Sparsity,
    TargetFC as TargetFC,
    TargetSynchrony as TargetSynchrony,
    TargetTrajectory as TargetTrajectory,
)
from ._grid import ControlGrid as ControlGrid
from ._optimal import optimal_control as optimal_control
from ._problem import ControlProblem as ControlProblem
from ._trace import ControlTrace as ControlTrace
from ._transforms import project_box as project_box, soft_threshold as soft_threshold
