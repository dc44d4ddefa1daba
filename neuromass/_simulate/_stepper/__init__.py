"""How the fixed-step loop advances one step: steppers (one per file)."""

from ._base import AbstractStepper as AbstractStepper
from ._solver import SolverStepper as SolverStepper
from ._tableau import TableauStepper as TableauStepper, erk_step as erk_step
