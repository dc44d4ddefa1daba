"""Structural connectomes, cortical surfaces and lead fields: the `Connectome`,
`Cortex` and `LocalConnectivity` modules, loaders and generators.

`weights[i, j]` is always the connection *to* region `i` *from* region `j`
(TVB's `[to, from]` order); lengths and centres are in mm, delays in ms. The same
holds for a local connectivity: row = target vertex.
"""

from ._connectome import (
    Connectome as Connectome,
    check_in_strength as check_in_strength,
)
from ._cortex import Cortex as Cortex, load_cortex as load_cortex
from ._generate import generate_edr_connectome as generate_edr_connectome
from ._lead_field import (
    LeadField as LeadField,
    load_lead_field as load_lead_field,
    region_gain as region_gain,
)
from ._loaders import (
    available_connectomes as available_connectomes,
    load_connectome as load_connectome,
)
from ._local_connectivity import LocalConnectivity as LocalConnectivity
from ._sparse import SparseMatrix as SparseMatrix
