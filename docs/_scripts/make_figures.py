"""Regenerate the pictures of the documentation (docs/images/*.png) and README.

Each picture is the output of an example script (or of `neuromass demo`), run in
full and written to a temporary folder, then stored as a palette PNG so that it
stays small (the tests require < 150 kB each). The examples themselves run in
the test suite in their quick mode (tests/test_examples.py), so a picture's
script cannot silently break.

    python docs/_scripts/make_figures.py            # all pictures, a few minutes
    python docs/_scripts/make_figures.py gallery    # only those whose name matches
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"

# picture in docs/images -> (command, file it writes in the output folder {out})
FIGURES = {
    "model_gallery.png": (["examples/model_gallery.py", "{out}"], None),
    "demo_heatmap.png": (["-m", "neuromass", "demo", "--out", "{out}"], "heatmap.png"),
    "cli_sweep_mean_fc.png": (
        ["-m", "neuromass", "sweep", "examples/specs/hopf_sweep.toml"]
        + ["--out", "{out}", "--quiet"],
        "mean_fc.png",
    ),
    "delayed_network.png": (["examples/delayed_network.py", "{out}"], None),
    "k_mean_fc.png": (["examples/sweeps/coupling_vs_mean_fc.py", "{out}"], None),
    "hopf_a_omega.png": (["examples/sweeps/hopf_a_omega_heatmap.py", "{out}"], None),
    "fit_bold_fc.png": (["examples/fit_bold_fc.py", "{out}"], None),
    "fit_rugged_jansen_rit.png": (["examples/fit_rugged_jansen_rit.py", "{out}"], None),
    "monitors_bold.png": (["examples/monitors_bold.py", "{out}"], None),
    "stimulus_shapes.png": (["examples/stimulus_shapes.py", "{out}"], None),
    "stimulus_resonance.png": (["examples/stimulus_resonance.py", "{out}"], None),
    "optimal_control.png": (["examples/optimal_control.py", "{out}"], None),
    "surface_regions.png": (["examples/surface_data.py", "{out}"], None),
    "surface_spread.png": (["examples/surface_data.py", "{out}"], None),
    "surface_activity.png": (["examples/surface_simulation.py", "{out}"], None),
}
MAX_BYTES = 150_000


def shrink(source: Path, target: Path) -> int:
    """Store `source` as a 256-colour palette PNG at `target`; its size in bytes."""
    from PIL import Image

    image = Image.open(source).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
        target, optimize=True
    )
    return target.stat().st_size


def main(patterns: list[str]) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name, (args, written) in FIGURES.items():
        if patterns and not any(p in name for p in patterns):
            continue
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable] + [a.format(out=out) for a in args]
            print("$", " ".join(cmd), flush=True)
            env = {**os.environ, "MPLBACKEND": "Agg"}
            env.pop("NEUROMASS_QUICK", None)
            subprocess.run(cmd, cwd=ROOT, check=True, env=env)
            size = shrink(Path(out) / (written or name), IMAGES / name)
        print(f"wrote docs/images/{name} ({size / 1000:.0f} kB)", flush=True)
        if size > MAX_BYTES:
            raise SystemExit(f"{name} is {size} bytes, over {MAX_BYTES}: lower its dpi")
    shutil.rmtree(ROOT / "neuromass-demo", ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
