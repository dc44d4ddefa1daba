"""Node (region) models."""

from ._base import AbstractNode as AbstractNode
from ._hopf import Hopf as Hopf
from ._jansen_rit import JansenRit as JansenRit
