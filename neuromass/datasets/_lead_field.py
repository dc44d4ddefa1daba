"""EEG/MEG lead fields (gain matrices) of The Virtual Brain's data (tvb-data),
reduced to regions."""

import bz2
import importlib.metadata
import importlib.resources

import equinox as eqx
import numpy as np
from jaxtyping import Array, Float


# kind -> (projection file, sensors file, number of sensors)
_FILES = {
    "eeg": ("projection_eeg_65_surface_16k.npy", "eeg_brainstorm_65.txt"),
    "meg": ("projection_meg_276_surface_16k.npy", "meg_brainstorm_276.txt"),
}
_REGION_MAPPINGS = {76: "regionMapping_16k_76.txt", 192: "regionMapping_16k_192.txt"}


class LeadField(eqx.Module):
    """An EEG or MEG forward model at the region level: `gain[m, i]` is what sensor
    `m` sees of a unit source in region `i`.

    **Attributes:**

    - `gain`: `(M, N)` gain matrix.
    - `labels`: the `M` sensor names.
    - `locations`: `(M, 3)` sensor positions (mm).
    - `orientations`: `(M, 3)` sensor orientations (MEG), or None.
    - `kind`: `"eeg"` or `"meg"`.
    - `source`: where the data come from.

    Give it to `neuromass.monitors.EEG`, `neuromass.monitors.MEG` or
    `neuromass.monitors.Projection` in place of a gain matrix.
    """

    gain: Float[Array, "sensors nodes"]
    labels: tuple[str, ...] = eqx.field(static=True)
    locations: Float[Array, "sensors 3"]
    orientations: Float[Array, "sensors 3"] | None
    kind: str = eqx.field(static=True)
    source: str = eqx.field(static=True)


def _read_text(package: str, filename: str) -> str:
    resource = importlib.resources.files(package) / filename
    data = resource.read_bytes()
    if filename.endswith(".bz2"):
        data = bz2.decompress(data)
    return data.decode()


def region_gain(surface_gain, region_mapping, n_regions: int | None = None):
    r"""Reduce a surface lead field `(M, V)` to regions `(M, N)` by summing the
    columns of the vertices of each region, as TVB does for region simulations:
    $G_{mi} = \sum_{v:\,\mathrm{map}(v) = i} G^{surf}_{mv}$. Non-finite entries are
    zeroed first (as TVB does).

    **Arguments:**

    - `surface_gain`: `(M, V)` gain of the V surface vertices.
    - `region_mapping`: `(V,)` region index of each vertex.
    - `n_regions`: N (default: `max(region_mapping) + 1`).
    """
    g = np.asarray(surface_gain, dtype=float)
    rmap = np.asarray(region_mapping, dtype=int)
    if g.ndim != 2 or rmap.shape != (g.shape[1],):
        raise ValueError(
            f"`surface_gain` (M, V) and `region_mapping` (V,) do not match: shapes "
            f"{g.shape} and {rmap.shape}."
        )
    n = int(rmap.max()) + 1 if n_regions is None else int(n_regions)
    out = np.zeros((g.shape[0], n))
    np.add.at(out.T, rmap, np.where(np.isfinite(g), g, 0.0).T)
    return out


def load_lead_field(kind: str = "eeg", n_regions: int = 76) -> LeadField:
    """The EEG (65 electrodes, Brainstorm) or MEG (276 sensors) lead field of The
    Virtual Brain's default subject, from the optional `tvb-data` package, reduced to
    the regions of its 76- or 192-region parcellation
    (`nm.datasets.load_connectome("tvb76")` for 76).

    The surface projection (16k vertices) is summed over the vertices of each region
    (see `neuromass.datasets.region_gain`); EEG sensors whose projection is not
    finite in tvb-data are dropped: the EEG keeps 63 of 65 sensors, the MEG 248 of
    276 (the others are reference and trigger channels).

    **Arguments:**

    - `kind`: `"eeg"` or `"meg"`.
    - `n_regions`: 76 or 192.

    **Returns:** a `neuromass.datasets.LeadField`.

    !!! example

        ```python
        import neuromass as nm

        lf = nm.datasets.load_lead_field("eeg")
        lf.gain.shape, lf.labels[:3]   # (63, 76), ('Fp1', 'Fp2', 'F4')
        ```
    """
    if kind not in _FILES:
        raise ValueError(f"`kind` must be 'eeg' or 'meg'; got {kind!r}.")
    if n_regions not in _REGION_MAPPINGS:
        raise ValueError(
            f"`n_regions` must be one of {sorted(_REGION_MAPPINGS)}; got {n_regions}."
        )
    try:
        import tvb_data  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "Loading a lead field needs the optional `tvb-data` package: "
            '`pip install "neuromass[data]"` (or `pip install tvb-data`).'
        ) from e
    proj_file, sensors_file = _FILES[kind]
    with importlib.resources.as_file(
        importlib.resources.files("tvb_data.projectionMatrix") / proj_file
    ) as path:
        surface = np.load(path)
    rmap = np.array(
        _read_text("tvb_data.regionMapping", _REGION_MAPPINGS[n_regions]).split(),
        dtype=int,
    )
    text = _read_text("tvb_data.sensors", sensors_file)
    rows = [line.split() for line in text.splitlines() if line.strip()]
    labels = np.array([r[0] for r in rows])
    values = np.array([[float(v) for v in r[1:]] for r in rows])
    usable = np.isfinite(surface).all(axis=1)
    gain = region_gain(surface[usable], rmap, n_regions)
    try:
        version = importlib.metadata.version("tvb-data")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown version"
    return LeadField(
        gain=gain,
        labels=tuple(labels[usable].tolist()),
        locations=values[usable, :3],
        orientations=values[usable, 3:6] if values.shape[1] >= 6 else None,
        kind=kind,
        source=(
            f"tvb-data {version}: projectionMatrix/{proj_file}, sensors/{sensors_file}"
            f", regionMapping/{_REGION_MAPPINGS[n_regions]} (GPL-3.0-or-later)"
        ),
    )
