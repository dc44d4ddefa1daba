"""Loop strategies of the fixed-step loop (one per file)."""

from ._base import AbstractLoop as AbstractLoop
from ._blocked import BlockedLoop as BlockedLoop
from ._choose import get_loop as get_loop
from ._step_by_step import StepByStepLoop as StepByStepLoop
