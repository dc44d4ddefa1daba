"""Monitors: observation models stepped inside the simulation loop (raw and
subsampled states, temporal and spatial averages, EEG/MEG/sEEG projections, BOLD,
streaming statistics such as an online FC, and the afferent coupling)."""

from ._afferent import AfferentCoupling as AfferentCoupling
from ._base import AbstractMonitor as AbstractMonitor, MonitorOutput as MonitorOutput
from ._basic import (
    EEG as EEG,
    MEG as MEG,
    Projection as Projection,
    Raw as Raw,
    Subsample as Subsample,
    TemporalAverage as TemporalAverage,
    iEEG as iEEG,
)
from ._bold import Bold as Bold
from ._spatial import GlobalAverage as GlobalAverage, SpatialAverage as SpatialAverage
from ._streaming import OnlineFC as OnlineFC, RunningStats as RunningStats
