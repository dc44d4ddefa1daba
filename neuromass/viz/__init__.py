"""Plotting with matplotlib: sweep heatmaps and lines, matrices, time series, brain
surfaces, fits and loss landscapes.

matplotlib is imported only when a function is called. Every function draws on
the given `ax` (or a new figure), returns the matplotlib Axes, and works headless
(`MPLBACKEND=Agg`).

!!! example

    ```python
    import numpy as np
    from neuromass.viz import plot_matrix

    ax = plot_matrix(np.eye(4), labels=["a", "b", "c", "d"], title="identity")
    ax.figure.savefig("identity.png")
    ```
"""

from ._fit_plots import plot_fit as plot_fit, plot_landscape as plot_landscape
from ._plots import (
    plot_carpet as plot_carpet,
    plot_matrix as plot_matrix,
    plot_timeseries as plot_timeseries,
)
from ._surface import (
    plot_surface as plot_surface,
    plot_surface_frames as plot_surface_frames,
)
from ._sweep_plots import heatmap as heatmap, line as line
