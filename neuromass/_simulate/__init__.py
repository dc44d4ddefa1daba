"""Integration of networks: `simulate`, its loop strategies and steppers."""

from ._grid import TimeGrid as TimeGrid
from ._history import RandomHistory as RandomHistory
from ._loop import (
    AbstractLoop as AbstractLoop,
    BlockedLoop as BlockedLoop,
    StepByStepLoop as StepByStepLoop,
)
from ._simulate import (
    SymmetricStartWarning as SymmetricStartWarning,
    simulate as simulate,
)
from ._stepper import (
    AbstractStepper as AbstractStepper,
    SolverStepper as SolverStepper,
    TableauStepper as TableauStepper,
)
