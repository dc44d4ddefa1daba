"""Node (region) models."""

from ._base import AbstractNode as AbstractNode
from ._catalogue import (
    ModelCatalogue as ModelCatalogue,
    ModelInfo as ModelInfo,
    list_models as list_models,
)
from ._epileptor import (
    Epileptor as Epileptor,
    Epileptor2D as Epileptor2D,
    EpileptorRestingState as EpileptorRestingState,
)
from ._epileptor_codim3 import (
    EpileptorCodim3 as EpileptorCodim3,
    EpileptorCodim3SlowMod as EpileptorCodim3SlowMod,
)
from ._fitzhugh_nagumo import FitzHughNagumo as FitzHughNagumo
from ._generic2d import Generic2dOscillator as Generic2dOscillator
from ._hopf import Hopf as Hopf
from ._hopfield import Hopfield as Hopfield
from ._jansen_rit import JansenRit as JansenRit, ZetterbergJansen as ZetterbergJansen
from ._k_ion_exchange import KIonEx as KIonEx, KIonExchange as KIonExchange
from ._kuramoto import Kuramoto as Kuramoto
from ._larter_breakspear import LarterBreakspear as LarterBreakspear
from ._linear import Linear as Linear
from ._params import param as param
from ._qif import (
    CoombesByrne as CoombesByrne,
    CoombesByrne2D as CoombesByrne2D,
    DumontGutkin as DumontGutkin,
    GastSchmidtKnosche_SD as GastSchmidtKnosche_SD,
    GastSchmidtKnosche_SF as GastSchmidtKnosche_SF,
    MontbrioPazoRoxin as MontbrioPazoRoxin,
)
from ._stefanescu_jirsa import (
    ReducedSetFitzHughNagumo as ReducedSetFitzHughNagumo,
    ReducedSetHindmarshRose as ReducedSetHindmarshRose,
)
from ._wilson_cowan import WilsonCowan as WilsonCowan
from ._wong_wang import (
    DecoBalancedExcInh as DecoBalancedExcInh,
    ReducedWongWang as ReducedWongWang,
    ReducedWongWangExcInh as ReducedWongWangExcInh,
    feedback_inhibition_control as feedback_inhibition_control,
)
from ._zerlaut import (
    ZerlautAdaptationFirstOrder as ZerlautAdaptationFirstOrder,
    ZerlautAdaptationSecondOrder as ZerlautAdaptationSecondOrder,
)
