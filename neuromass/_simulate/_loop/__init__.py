"""Loop strategies of the fixed-step loop (one per file)."""

from ._base import AbstractLoop as AbstractLoop, get_loop as get_loop
from ._blocked import BlockedLoop as BlockedLoop
from ._step_by_step import StepByStepLoop as StepByStepLoop
