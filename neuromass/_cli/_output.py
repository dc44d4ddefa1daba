"""What the command line writes: CSV cells, tables, axis labels, sweep plots."""

from pathlib import Path


def _csv_cells(column) -> list[str]:
    """The CSV text of a column: each value at its own dtype's precision (the
    shortest text that reads back to the same value), so float32 -0.2 is "-0.2",
    not "-0.20000000298023224"; integers and strings as they are."""
    import numpy as np

    col = np.asarray(column)
    if col.dtype.kind == "f":
        return [np.format_float_positional(v, unique=True, trim="-")
                if 1e-4 <= abs(v) < 1e16 or v == 0 or not np.isfinite(v)
                else np.format_float_scientific(v, unique=True, trim="-")
                for v in col]  # fmt: skip
    return [str(v) for v in col.tolist()]


def _write_csv(table: dict, path: Path) -> None:
    import csv
    import io

    from .._io import atomic_write

    names = list(table)
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(names)
    writer.writerows(zip(*(_csv_cells(table[n]) for n in names)))
    atomic_write(path, text.getvalue().encode("utf-8"))


def _unit(node_cls: type, name: str) -> str | None:
    """A parameter's unit from the table of its model's docstring
    (`| `name` | default | unit | ...`), or None."""
    from .._summary import parameter_docs

    unit = parameter_docs(node_cls).get(name, ("", ""))[0]
    return None if unit in ("", "-", "1", "dimensionless") else unit


def _axis_label(path: str, node_cls: type, model_name: str) -> str:
    """An axis label with the quantity and its unit, e.g. "Hopf a (1/ms)"."""
    if path == "k":
        return "global coupling k"
    if path == "speed":
        return "conduction speed (mm/ms)"
    if path.startswith("node."):
        name = path[len("node.") :]
        unit = _unit(node_cls, name)
        return f"{model_name} {name}" + (f" ({unit})" if unit else "")
    return path


def _format_head(table: dict, n: int = 8) -> str:
    import numpy as np

    names = list(table)
    cells = [
        [
            f"{v:.4g}" if isinstance(v, float) else str(v)
            for v in np.asarray(table[c])[:n].tolist()
        ]
        for c in names
    ]
    widths = [max(len(c), *(len(v) for v in col)) for c, col in zip(names, cells)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(names, widths))]
    for i in range(len(cells[0])):
        lines.append("  ".join(col[i].rjust(w) for col, w in zip(cells, widths)))
    return "\n".join(lines)


def _plot_sweep(res, spec, net, folder: Path) -> list[Path]:
    import matplotlib.pyplot as plt
    import numpy as np

    import neuromass as nm

    declared = list(spec.axes)
    labels = {p: _axis_label(p, type(net.node), spec.model.name) for p in declared}
    written = []
    for name in spec.sweep.outputs:
        title = f"{name} of {spec.sweep_variable()}"
        if res.grid_shape is not None and len(declared) >= 2:
            reduce = np.nanmean if len(declared) > 2 else None
            if reduce is not None:
                title += f" (mean over {', '.join(declared[2:])})"
            ax = nm.viz.heatmap(
                res,
                name,
                x=declared[0],
                y=declared[1],
                reduce=reduce,
                title=title,
                xlabel=labels[declared[0]],
                ylabel=labels[declared[1]],
            )
        else:
            ax = nm.viz.line(
                res, name, x=declared[0], title=title, xlabel=labels[declared[0]]
            )
        path = folder / f"{name}.png"
        ax.figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(ax.figure)
        written.append(path)
    return written
