"""Rebuild the bundled default connectome, `data/default_76.npz`.

Run `python -m neuromass.datasets._make_default` after changing
`DEFAULT_EDR_PARAMETERS`; the test suite checks that the shipped file equals a
fresh regeneration from the parameters stored inside it.
"""

import json
from pathlib import Path

from ._connectome import write_npz
from ._generate import DEFAULT_EDR_PARAMETERS, _edr_arrays, generate_edr_connectome


DEFAULT_FILE = Path(__file__).parent / "data" / "default_76.npz"


def write_default_file(path: str | Path = DEFAULT_FILE) -> Path:
    """Write the default EDR connectome in float64, with its parameters as JSON."""
    params = DEFAULT_EDR_PARAMETERS
    reference = generate_edr_connectome(**params)
    return write_npz(
        path,
        _edr_arrays(**params),
        name=reference.name,
        source=reference.source,
        extra={"edr_parameters": json.dumps(params, sort_keys=True)},
    )


if __name__ == "__main__":
    print(f"wrote {write_default_file()}")
