"""Stimuli: known inputs added to the derivatives of some state variables
(The Virtual Brain's `StimuliRegion` and `StimuliSurface`, and explicit time
series).

Each stimulus is an `eqx.Module` evaluated at a time `t` (ms); its weights, samples
and equation parameters are array leaves that can be swept and differentiated.
Stimuli add: `stim_a + stim_b`.
"""

from ._base import (
    AbstractPatternStimulus as AbstractPatternStimulus,
    AbstractStimulus as AbstractStimulus,
    SumStimulus as SumStimulus,
)
from ._region import RegionStimulus as RegionStimulus
from ._surface import SurfaceStimulus as SurfaceStimulus
from ._timeseries import TimeSeriesStimulus as TimeSeriesStimulus
