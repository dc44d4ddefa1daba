"""Posterior inference: NUTS through the differentiable simulator, and
simulation-based inference on summary features at sweep speed.

Needs the `inference` extra (`pip install "neuromass[inference]"`: NumPyro, ArviZ,
flowjax, pandas). Import it explicitly: `import neuromass.inference as nmi`.
"""

from ._calibration import (
    coverage as coverage,
    rank_uniformity as rank_uniformity,
    sbc_ranks as sbc_ranks,
)
from ._features import summary_features as summary_features
from ._nuts import PosteriorSamples as PosteriorSamples, nuts as nuts
from ._posterior import (
    GaussianFC as GaussianFC,
    GaussianTimeSeries as GaussianTimeSeries,
    Posterior as Posterior,
)
from ._sbi import (
    AmortisedPosterior as AmortisedPosterior,
    simulate_table as simulate_table,
    table_columns as table_columns,
    train_posterior as train_posterior,
)
