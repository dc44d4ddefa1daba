"""Node (region) models."""

from ._base import AbstractNode as AbstractNode
from ._catalogue import (
    ModelCatalogue as ModelCatalogue,
    ModelInfo as ModelInfo,
    list_models as list_models,
)
from ._epileptor import Epileptor as Epileptor, Epileptor2D as Epileptor2D
from ._fitzhugh_nagumo import FitzHughNagumo as FitzHughNagumo
from ._generic2d import Generic2dOscillator as Generic2dOscillator
from ._hopf import Hopf as Hopf
from ._jansen_rit import JansenRit as JansenRit
from ._kuramoto import Kuramoto as Kuramoto
from ._larter_breakspear import LarterBreakspear as LarterBreakspear
from ._linear import Linear as Linear
from ._params import param as param
from ._qif import CoombesByrne as CoombesByrne, MontbrioPazoRoxin as MontbrioPazoRoxin
from ._wilson_cowan import WilsonCowan as WilsonCowan
from ._wong_wang import (
    ReducedWongWang as ReducedWongWang,
    ReducedWongWangExcInh as ReducedWongWangExcInh,
)
