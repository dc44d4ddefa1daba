"""The `neuromass` command line: parser and entry point."""

import argparse

from ._demo import _demo
from ._simulate import _simulate
from ._sweep import _sweep


_SPEC_EXAMPLE = """\
A spec is a TOML file; relative paths are relative to the current directory:

  [model]
  name = "Hopf"                 # see `neuromass models`
  a = -0.05                     # any parameter of the model
  [network]
  connectome = "default"        # or "tvb76", or a .zip/.npz path
  speed = 10.0                  # mm/ms; delays = tract lengths / speed
  coupling = "diffusive"
  k = 0.5
  noise = 0.02                  # additive noise intensity
  [simulation]
  t1 = 1000.0                   # ms
  dt = 0.1
  save_every = 1.0
  transient = 200.0
  solver = "Heun"               # any Diffrax solver class
  seed = 0
"""


_SWEEP_EXAMPLE = """\
  [sweep]
  outputs = ["mean_fc", "metastability"]
  batch_size = 16
  [axes.k]
  grid = [0.0, 1.0, 8]          # low, high, number of values
  [axes."node.a"]
  values = [-0.1, 0.0, 0.1]

Every finished chunk is stored in <folder>/store; running the same command again
resumes. The folder gets results.csv, results.npz and one PNG per output. See the
documentation page "Command line" for every key.
"""


class _HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default, except where there is nothing to show
    (flags, options without a default, help texts that already say it)."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default is None
            or default is False
            or default is argparse.SUPPRESS
            or default == []
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


class _RawHelpFormatter(_HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """`_HelpFormatter` keeping the line breaks of the description and epilogue
    (the spec examples)."""


def _models(args) -> int:
    import neuromass as nm

    print(nm.models.list_models().to_table())
    return 0


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("neuromass")
    except importlib.metadata.PackageNotFoundError:  # a source tree
        return "0.0.0"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuromass",
        description="Whole-brain neural-mass network simulation on JAX/Diffrax.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"neuromass {_version()}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="run the headline job: a 2-D parameter sweep on the bundled connectome",
        description="Sweep global coupling k and the Hopf parameter a of a delayed "
        "Hopf network on the bundled connectome; print the head of the tidy result "
        "table and write it as CSV, with a heatmap PNG.",
        formatter_class=_HelpFormatter,
    )
    demo.add_argument("--out", default="neuromass-demo", help="output folder")
    demo.add_argument("--t1", type=float, default=600.0, help="ms per point")
    demo.add_argument("--transient", type=float, default=100.0, help="ms discarded")
    demo.add_argument("--n-k", type=int, default=8, help="number of k values")
    demo.add_argument("--n-a", type=int, default=6, help="number of a values")
    demo.add_argument("--k-max", type=float, default=0.8, help="largest k")
    demo.add_argument("--batch-size", type=int, default=16, help="points per chunk")
    demo.add_argument(
        "--store", default=None, help="folder to store (and resume) the sweep"
    )
    demo.add_argument("--sigma", type=float, default=0.02, help="noise intensity")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=_demo)
    models = sub.add_parser(
        "models",
        help="print the model catalogue",
        description="Print the built-in node models: name, category, state "
        "variables coupled by default, typical use and reference.",
        formatter_class=_HelpFormatter,
    )
    models.set_defaults(func=_models)
    for name, func, summary, epilog in (
        (
            "simulate",
            _simulate,
            "simulate the network of a TOML spec and save the trajectories",
            _SPEC_EXAMPLE + "\nWrites <folder>/simulation.npz (ts, one (T, N) array "
            "per saved variable, labels, the resolved spec as JSON; it loads with "
            "numpy.load(path, allow_pickle=False)) and, with [output] plot = true, "
            "timeseries.png and fc.png.\n",
        ),
        (
            "sweep",
            _sweep,
            "run the parameter sweep of a TOML spec (resumable)",
            _SPEC_EXAMPLE + _SWEEP_EXAMPLE,
        ),
    ):
        cmd = sub.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=epilog,
            formatter_class=_RawHelpFormatter,
        )
        cmd.add_argument("spec", metavar="SPEC.toml", help="the spec file")
        cmd.add_argument(
            "--set",
            metavar="KEY=VALUE",
            action="append",
            default=[],
            help="override a key of the spec, e.g. --set simulation.t1=500 or "
            "--set 'axes.k.grid=[0, 1, 4]' (repeatable)",
        )
        cmd.add_argument(
            "--out", default=None, help="output folder (default: [output] folder)"
        )
        cmd.add_argument(
            "--check",
            action="store_true",
            help="validate the spec and describe the run, without running it",
        )
        cmd.add_argument(
            "--quiet", action="store_true", help="no progress bar or progress lines"
        )
        cmd.set_defaults(func=func)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args)
