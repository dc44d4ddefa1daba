"""The catalogue of built-in node models: `list_models()`."""

from typing import Literal, NamedTuple

from ._base import AbstractNode
from ._epileptor import Epileptor, Epileptor2D, EpileptorRestingState
from ._epileptor_codim3 import EpileptorCodim3, EpileptorCodim3SlowMod
from ._fitzhugh_nagumo import FitzHughNagumo
from ._generic2d import Generic2dOscillator
from ._hopf import Hopf
from ._hopfield import Hopfield
from ._jansen_rit import JansenRit, ZetterbergJansen
from ._k_ion_exchange import KIonEx
from ._kuramoto import Kuramoto
from ._larter_breakspear import LarterBreakspear
from ._linear import Linear
from ._qif import (
    CoombesByrne,
    CoombesByrne2D,
    DumontGutkin,
    GastSchmidtKnosche_SD,
    GastSchmidtKnosche_SF,
    MontbrioPazoRoxin,
)
from ._stefanescu_jirsa import ReducedSetFitzHughNagumo, ReducedSetHindmarshRose
from ._wilson_cowan import WilsonCowan
from ._wong_wang import DecoBalancedExcInh, ReducedWongWang, ReducedWongWangExcInh
from ._zerlaut import ZerlautAdaptationFirstOrder, ZerlautAdaptationSecondOrder


Category = Literal["phenomenological", "physiological"]


class ModelInfo(NamedTuple):
    """One entry of the model catalogue (see `neuromass.models.list_models`)."""

    name: str
    """Class name, e.g. `"Hopf"` (also the attribute of `neuromass.models`)."""
    cls: type[AbstractNode]
    """The node class itself."""
    category: Category
    """`"phenomenological"` (normal forms, generic oscillators, phase models) or
    `"physiological"` (populations with synaptic/membrane interpretation)."""
    n_states: int
    """Number of state variables."""
    state_names: tuple[str, ...]
    """The state variables."""
    coupled_vars: tuple[str, ...]
    """The variables coupled through the connectome by default."""
    typical_use: str
    """What the model is typically used for."""
    reference: str
    """The main reference (short form)."""


_COLUMNS = (
    ("name", "model"),
    ("category", "category"),
    ("n_states", "states"),
    ("coupled_vars", "coupled"),
    ("typical_use", "typical use"),
    ("reference", "reference"),
)


class ModelCatalogue(list):
    """The list of `neuromass.models.ModelInfo` records returned by
    `neuromass.models.list_models`, with a text rendering."""

    def names(self) -> list[str]:
        """The model names, in catalogue order."""
        return [m.name for m in self]

    def to_table(self, max_width: int = 48) -> str:
        """A fixed-width text table, one model per row.

        **Arguments:**

        - `max_width`: widest cell, at least 8; longer texts are wrapped onto more
          lines of the row at spaces (never cut; a single longer word stays whole).

        **Returns:** the table as a string (no trailing newline).
        """
        import textwrap

        if max_width < 8:
            raise ValueError(f"`max_width` must be at least 8; got {max_width}.")

        def cell(value) -> list[str]:
            if isinstance(value, tuple):
                value = ", ".join(value)
            text = str(value)
            lines = textwrap.wrap(
                text, max_width, break_on_hyphens=False, break_long_words=False
            )
            return lines or [""]

        rows = [[cell(getattr(m, field)) for field, _ in _COLUMNS] for m in self]
        header = [title for _, title in _COLUMNS]
        widths = [
            max([len(header[c])] + [len(text) for r in rows for text in r[c]])
            for c in range(len(header))
        ]

        def line(cells):
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

        out = [line(header), line(["-" * w for w in widths])]
        for r in rows:
            height = max(len(lines) for lines in r)
            for i in range(height):
                out.append(line([lines[i] if i < len(lines) else "" for lines in r]))
        return "\n".join(out)

    def __str__(self) -> str:
        return self.to_table()


_ENTRIES = (
    (
        Hopf,
        "phenomenological",
        "oscillations near a Hopf bifurcation; FC",
        "Deco et al. 2017, Sci. Rep.",
    ),
    (
        Generic2dOscillator,
        "phenomenological",
        "configurable excitable/oscillatory 2D node",
        "Sanz-Leon et al. 2015, NeuroImage",
    ),
    (
        FitzHughNagumo,
        "phenomenological",
        "excitability, spikes, relaxation oscillations",
        "FitzHugh 1961, Biophys. J.",
    ),
    (
        Kuramoto,
        "phenomenological",
        "phase synchronisation, delays, metastability",
        "Kuramoto 1975; Cabral et al. 2011",
    ),
    (
        Linear,
        "phenomenological",
        "linear/OU models of resting-state FC",
        "Sanz-Leon et al. 2015, NeuroImage",
    ),
    (
        Epileptor,
        "phenomenological",
        "seizure onset, offset and propagation",
        "Jirsa et al. 2014, Brain",
    ),
    (
        Epileptor2D,
        "phenomenological",
        "slow seizure propagation across regions",
        "Proix et al. 2014, J. Neurosci.",
    ),
    (
        JansenRit,
        "physiological",
        "EEG alpha rhythm, evoked potentials",
        "Jansen & Rit 1995, Biol. Cybern.",
    ),
    (
        WilsonCowan,
        "physiological",
        "E/I population oscillations",
        "Wilson & Cowan 1972, Biophys. J.",
    ),
    (
        ReducedWongWang,
        "physiological",
        "resting-state fMRI, multistability",
        "Deco et al. 2013, J. Neurosci.",
    ),
    (
        ReducedWongWangExcInh,
        "physiological",
        "resting-state fMRI with E/I balance",
        "Deco et al. 2014, J. Neurosci.",
    ),
    (
        MontbrioPazoRoxin,
        "physiological",
        "exact QIF mean field; up/down states",
        "Montbrio, Pazo & Roxin 2015, PRX",
    ),
    (
        CoombesByrne,
        "physiological",
        "QIF mean field with conductance synapses",
        "Coombes & Byrne 2019",
    ),
    (
        LarterBreakspear,
        "physiological",
        "conductance-based chaotic dynamics",
        "Breakspear et al. 2003, Network",
    ),
    (
        EpileptorRestingState,
        "phenomenological",
        "interictal resting-state activity with seizures",
        "Courtiol et al. 2020, J. Neurosci.",
    ),
    (
        EpileptorCodim3,
        "phenomenological",
        "classes of seizure bursters (codim-3 unfolding)",
        "Saggio et al. 2017, J. Math. Neurosci.",
    ),
    (
        EpileptorCodim3SlowMod,
        "phenomenological",
        "ultra-slow transitions between burster classes",
        "Saggio et al. 2017, J. Math. Neurosci.",
    ),
    (
        Hopfield,
        "phenomenological",
        "graded-response attractor networks",
        "Hopfield 1984, PNAS",
    ),
    (
        ReducedSetFitzHughNagumo,
        "phenomenological",
        "heterogeneous E/I FitzHugh-Nagumo populations (modes)",
        "Stefanescu & Jirsa 2008, PLoS Comput. Biol.",
    ),
    (
        ReducedSetHindmarshRose,
        "phenomenological",
        "heterogeneous E/I bursting populations (modes)",
        "Stefanescu & Jirsa 2008, PLoS Comput. Biol.",
    ),
    (
        ZetterbergJansen,
        "physiological",
        "cortical column with three populations; EEG",
        "Zetterberg et al. 1978, Biol. Cybern.",
    ),
    (
        DecoBalancedExcInh,
        "physiological",
        "regional gain heterogeneity; FIC-balanced fMRI",
        "Deco et al. 2021, Sci. Adv.",
    ),
    (
        CoombesByrne2D,
        "physiological",
        "QIF mean field with instantaneous conductance",
        "Coombes & Byrne 2019",
    ),
    (
        GastSchmidtKnosche_SD,
        "physiological",
        "QIF mean field with synaptic depression; bursts",
        "Gast et al. 2020, Neural Comput.",
    ),
    (
        GastSchmidtKnosche_SF,
        "physiological",
        "QIF mean field with spike-frequency adaptation",
        "Gast et al. 2020, Neural Comput.",
    ),
    (
        DumontGutkin,
        "physiological",
        "E-I QIF mean fields; phase resetting, gamma",
        "Dumont & Gutkin 2019, PLoS Comput. Biol.",
    ),
    (
        KIonEx,
        "physiological",
        "potassium dynamics, seizures and spreading depolarisation",
        "Bandyopadhyay, Rabuffo et al. 2023",
    ),
    (
        ZerlautAdaptationFirstOrder,
        "physiological",
        "AdEx network mean field; asynchronous/up-down states",
        "Zerlaut et al. 2018; di Volo et al. 2019",
    ),
    (
        ZerlautAdaptationSecondOrder,
        "physiological",
        "AdEx mean field with rate (co)variances",
        "di Volo et al. 2019, Neural Comput.",
    ),
)


def list_models(category: str | None = None) -> ModelCatalogue:
    """The built-in node models, as typed records.

    **Arguments:**

    - `category`: only the models of this category, `"phenomenological"` or
      `"physiological"` (default: all).

    **Returns:** a `neuromass.models.ModelCatalogue`, a list of
    `neuromass.models.ModelInfo` records (`name`, `cls`, `category`,
    `n_states`, `state_names`, `coupled_vars`, `typical_use`, `reference`) with a
    `to_table()` method for a readable text table.

    !!! example

        ```python
        import neuromass as nm

        print(nm.models.list_models().to_table())
        oscillators = [m.cls for m in nm.models.list_models("phenomenological")]
        ```
    """
    if category not in (None, "phenomenological", "physiological"):
        raise ValueError(
            "`category` must be None, 'phenomenological' or 'physiological'; got "
            f"{category!r}."
        )
    out = ModelCatalogue()
    for cls, cat, use, ref in _ENTRIES:
        if category is not None and cat != category:
            continue
        out.append(
            ModelInfo(
                name=cls.__name__,
                cls=cls,
                category=cat,
                n_states=len(cls.state_names),
                state_names=tuple(cls.state_names),
                coupled_vars=tuple(cls.coupled_vars),
                typical_use=use,
                reference=ref,
            )
        )
    return out
