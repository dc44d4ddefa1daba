"""EEG/MEG/sEEG lead fields (gain matrices): The Virtual Brain's data (tvb-data)
reduced to regions, and the point-dipole gain of sensors inside the head."""

import bz2
import importlib.metadata
import importlib.resources
import zipfile

import equinox as eqx
import numpy as np
from jaxtyping import Array, ArrayLike, Float


# kind -> (projection file, sensors file, number of sensors)
_FILES = {
    "eeg": ("projection_eeg_65_surface_16k.npy", "eeg_brainstorm_65.txt"),
    "meg": ("projection_meg_276_surface_16k.npy", "meg_brainstorm_276.txt"),
}
_REGION_MAPPINGS = {76: "regionMapping_16k_76.txt", 192: "regionMapping_16k_192.txt"}
# The connectome (tvb-data's `connectivity_N.zip`, `load_connectome("tvbN")`) whose
# regions the region mappings and the sEEG sources refer to.
_CONNECTIVITY = {76: "connectivity_76.zip", 192: "connectivity_192.zip"}
_SEEG_SENSORS = "seeg_588.txt"


class LeadField(eqx.Module):
    r"""An EEG, MEG or sEEG forward model at the region level: `gain[m, i]` is what
    sensor `m` sees of a unit source in region `i`, for the regions of one
    parcellation.

    **Attributes:**

    - `gain`: `(M, N)` gain matrix.
    - `labels`: the `M` sensor names.
    - `locations`: `(M, 3)` sensor positions (mm).
    - `orientations`: `(M, 3)` sensor orientations (MEG), or None.
    - `kind`: `"eeg"`, `"meg"` or `"seeg"`.
    - `source`: where the data come from.
    - `regions`: the `N` region labels of the parcellation the columns belong to
      (e.g. those of `nm.datasets.load_connectome("tvb76")`), or None if unknown.
    - `parcellation`: the parcellation's name (e.g. `"tvb76"`), or None.

    A projection monitor built from a lead field (`neuromass.monitors.EEG`,
    `neuromass.monitors.MEG`, `neuromass.monitors.iEEG`,
    `neuromass.monitors.Projection`) refuses a network whose region labels
    (`neuromass.Network.from_connectome` keeps them) differ from `regions`: the
    topography of a lead field means nothing for another parcellation.

    **Units.** The gain of `neuromass.datasets.load_lead_field` is tvb-data's
    surface gain summed over the vertices of each region, in tvb-data's units
    (sensor value per unit source activity per vertex); the sensor signal is in
    those units times the units of the observable (e.g. mV for Jansen-Rit's
    $y_1 - y_2$), so treat EEG amplitudes as arbitrary units and compare shapes,
    spectra and correlations. `LeadField.from_sensors` gives the point-dipole
    potential in $\mathrm{mm}^{-2}$ per unit dipole for $\sigma = 1$.
    """

    gain: Float[Array, "sensors nodes"]
    labels: tuple[str, ...] = eqx.field(static=True)
    locations: Float[Array, "sensors 3"]
    orientations: Float[Array, "sensors 3"] | None
    kind: str = eqx.field(static=True)
    source: str = eqx.field(static=True)
    regions: tuple[str, ...] | None = eqx.field(static=True, default=None)
    parcellation: str | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        shape = np.shape(self.gain)
        if len(shape) != 2:
            raise ValueError(
                f"`LeadField.gain` must be (M sensors, N regions); got shape {shape}."
            )
        if len(self.labels) != shape[0]:
            raise ValueError(
                f"`LeadField.labels` names {len(self.labels)} sensors but `gain` has "
                f"{shape[0]} rows."
            )
        if self.regions is not None and len(self.regions) != shape[1]:
            raise ValueError(
                f"`LeadField.regions` names {len(self.regions)} regions but `gain` "
                f"has {shape[1]} columns."
            )

    @classmethod
    def from_sensors(
        cls,
        sensor_positions: Float[ArrayLike, "sensors 3"],
        source_positions: Float[ArrayLike, "nodes 3"],
        orientations: Float[ArrayLike, "nodes 3"] | None = None,
        *,
        sigma: float = 1.0,
        labels=None,
        regions=None,
        parcellation: str | None = None,
        kind: str = "seeg",
        source: str = "point dipoles in a homogeneous medium",
    ) -> "LeadField":
        r"""The lead field of sensors inside the head (sEEG/iEEG contacts): the
        potential of a current dipole in an infinite homogeneous conductor, as The
        Virtual Brain's `iEEG` monitor computes it (`iEEG.analytic`, equation 12 of
        Sarvas 1987):

        $$G_{mi} = \frac{1}{4\pi\sigma}\,
          \frac{\mathbf q_i \cdot (\mathbf r_m - \mathbf r_i)}
          {\lVert \mathbf r_m - \mathbf r_i \rVert^3}$$

        with $\mathbf r_m$ the sensor positions, $\mathbf r_i$ the source (region
        centre) positions and $\mathbf q_i$ the source orientations.

        **Arguments:**

        - `sensor_positions`: `(M, 3)` contact positions (mm).
        - `source_positions`: `(N, 3)` source positions (mm), e.g. a connectome's
          `centres`.
        - `orientations`: `(N, 3)` dipole orientations (used as given, as TVB uses
          a connectivity's `orientations`); default: the unit vector from the
          centroid of the sources to each source (radial sources).
        - `sigma`: conductivity (default 1, as TVB).
        - `labels`: the `M` sensor names (default `"0"`, `"1"`, ...).
        - `regions`, `parcellation`: the sources' region labels and parcellation
          name (e.g. `conn.labels`, `conn.name`), checked against the network.
        - `kind`: `"seeg"` (default), `"eeg"` or `"meg"`.
        - `source`: a description of where the geometry comes from.

        **Returns:** a `neuromass.datasets.LeadField` with `gain` `(M, N)` in
        $\mathrm{mm}^{-2}$ per unit dipole (for $\sigma = 1$).

        !!! example

            ```python
            import numpy as np
            import neuromass as nm

            conn = nm.datasets.load_connectome()
            contacts = np.array([[20.0, 0.0, 10.0], [25.0, 0.0, 10.0]])  # mm
            lf = nm.datasets.LeadField.from_sensors(
                contacts, conn.centres, regions=conn.labels, parcellation=conn.name
            )
            lf.gain.shape   # (2, 76)
            ```
        """
        r = np.asarray(sensor_positions, dtype=float)
        r0 = np.asarray(source_positions, dtype=float)
        for name, x in (("sensor_positions", r), ("source_positions", r0)):
            if x.ndim != 2 or x.shape[1] != 3:
                raise ValueError(f"`{name}` must be (K, 3) in mm; got shape {x.shape}.")
        if orientations is None:
            q = r0 - r0.mean(axis=0)
            norm = np.linalg.norm(q, axis=1, keepdims=True)
            q = np.divide(q, norm, out=np.zeros_like(q), where=norm > 0)
        else:
            q = np.asarray(orientations, dtype=float)
            if q.shape != r0.shape:
                raise ValueError(
                    f"`orientations` must be (N, 3) like `source_positions` "
                    f"{r0.shape}; got shape {q.shape}."
                )
        if not (np.isfinite(sigma) and sigma > 0):
            raise ValueError(f"`sigma` (conductivity) must be > 0; got {sigma!r}.")
        if kind not in ("eeg", "meg", "seeg"):
            raise ValueError(f"`kind` must be 'eeg', 'meg' or 'seeg'; got {kind!r}.")
        a = r[:, None, :] - r0[None, :, :]  # (M, N, 3) source -> sensor
        dist = np.linalg.norm(a, axis=-1)
        if np.any(dist == 0):
            m, i = np.argwhere(dist == 0)[0]
            raise ValueError(
                f"Sensor {m} sits exactly on source {i}: the point-dipole potential "
                "is infinite there."
            )
        gain = np.einsum("nk,mnk->mn", q, a) / dist**3 / (4.0 * np.pi * sigma)
        names = tuple(str(i) for i in range(len(r))) if labels is None else labels
        return cls(
            gain=gain,
            labels=tuple(str(x) for x in names),
            locations=r,
            orientations=None,
            kind=kind,
            source=source,
            regions=None if regions is None else tuple(str(x) for x in regions),
            parcellation=parcellation,
        )


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


def _tvb_geometry(n_regions: int) -> tuple[np.ndarray, np.ndarray]:
    """The region centres (mm) and orientations of tvb-data's `connectivity_N.zip`
    (`centres.txt`, `average_orientations.txt`), in float64."""
    resource = (
        importlib.resources.files("tvb_data.connectivity") / _CONNECTIVITY[n_regions]
    )
    with resource.open("rb") as f, zipfile.ZipFile(f) as archive:
        centres = archive.read("centres.txt").decode()
        orientations = archive.read("average_orientations.txt").decode()
    rows = [line.split() for line in centres.splitlines() if line.strip()]
    return (
        np.array([r[1:4] for r in rows], dtype=float),
        np.array(orientations.split(), dtype=float).reshape(-1, 3),
    )


def load_lead_field(kind: str = "eeg", n_regions: int = 76) -> LeadField:
    """The EEG (65 electrodes, Brainstorm), MEG (276 sensors) or sEEG (588
    contacts) lead field of The Virtual Brain's default subject, from the optional
    `tvb-data` package, for the regions of its 76- or 192-region parcellation: the
    columns are the regions of `nm.datasets.load_connectome("tvb76")` (or
    `"tvb192"`), in that order, and the lead field's `regions` are their labels.
    Simulate that connectome (`neuromass.Network.from_connectome`) to project
    through it; a network of another parcellation is refused.

    EEG and MEG: the surface projection (16k vertices) is summed over the vertices
    of each region (see `neuromass.datasets.region_gain`); EEG sensors whose
    projection is not finite in tvb-data are dropped: the EEG keeps 63 of 65
    sensors, the MEG 248 of 276 (the others are reference and trigger channels).

    sEEG: tvb-data has the contact positions (`sensors/seeg_588.txt`) but not their
    projection matrix, so the gain is the point-dipole potential of each region
    (at its centre, with the connectome's average orientation) at each contact,
    with conductivity 1, as TVB's `iEEG` monitor computes it without a projection
    (see `neuromass.datasets.LeadField.from_sensors`).

    **Arguments:**

    - `kind`: `"eeg"`, `"meg"` or `"seeg"`.
    - `n_regions`: 76 or 192.

    **Returns:** a `neuromass.datasets.LeadField`.

    !!! example

        ```python
        import neuromass as nm

        lf = nm.datasets.load_lead_field("eeg")
        lf.gain.shape, lf.labels[:3]   # (63, 76), ('Fp1', 'Fp2', 'F4')
        lf.parcellation, lf.regions[:2]   # 'tvb76', ('rA1', 'rA2')
        ```
    """
    if kind not in (*_FILES, "seeg"):
        raise ValueError(f"`kind` must be 'eeg', 'meg' or 'seeg'; got {kind!r}.")
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
    from ._loaders import load_connectome

    parcellation = f"tvb{n_regions}"
    conn = load_connectome(parcellation)
    try:
        version = importlib.metadata.version("tvb-data")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown version"
    if kind == "seeg":
        rows = [
            line.split()
            for line in _read_text("tvb_data.sensors", _SEEG_SENSORS).splitlines()
            if line.strip()
        ]
        centres, orientations = _tvb_geometry(n_regions)
        return LeadField.from_sensors(
            np.array([[float(v) for v in r[1:4]] for r in rows]),
            centres,
            orientations,
            labels=[r[0] for r in rows],
            regions=conn.labels,
            parcellation=parcellation,
            kind="seeg",
            source=(
                f"tvb-data {version}: sensors/{_SEEG_SENSORS}, connectivity/"
                f"{_CONNECTIVITY[n_regions]} centres and average orientations; point-"
                "dipole gain, conductivity 1 (GPL-3.0-or-later)"
            ),
        )
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
        regions=conn.labels,
        parcellation=parcellation,
    )
