"""Every ```python code block of the documentation runs.

Each page under `docs/` (`docs/*.md` and `docs/**/*.md`) is one test: its Python
blocks are executed in order in one namespace, as a reader would paste them, in a
fresh temporary working directory, with matplotlib's `Agg` backend
(`MPLBACKEND=Agg`). Blocks nested in admonitions or content tabs (indented fences)
run too. A failing block is reported with its page and line.

**Convention for blocks that must not run** (keep them rare: GPU installation,
cluster set-up, another library's API on the migration pages). A ```python block
is skipped when

- its first line is the comment `# doc: no-run`, or
- its fence carries the class `.no-run`: ```` ```{.python .no-run} ```` (rendered
  like any Python block, without a visible marker).

Shell commands belong in ```bash blocks, which are never run. Slow pages should be
made faster (shorter `t1`, fewer points) rather than skipped.

Also checked: every page is reachable from the navigation of `mkdocs.yml`.
"""

import re
import textwrap
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NO_RUN_COMMENT = "# doc: no-run"

_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>.*?)\s*$")


def _is_python(info: str) -> tuple[bool, bool]:
    """(a Python block, marked `.no-run`) from a fence's info string."""
    if info.startswith("{") and info.endswith("}"):
        words = info[1:-1].split()
        return ".python" in words or "python" in words, ".no-run" in words
    first = info.split()[0] if info.split() else ""
    return first == "python", False


def python_blocks(text: str) -> list[tuple[int, str, bool]]:
    """The ```python blocks of a Markdown text: (first code line, code, skipped)."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = _OPEN.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"]
        close = re.compile(rf"^{re.escape(indent)}{fence[0]}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        python, marked = _is_python(info)
        if python:
            code = textwrap.dedent("\n".join(lines[i + 1 : j]))
            skipped = marked or code.lstrip().startswith(NO_RUN_COMMENT)
            blocks.append((i + 2, code, skipped))
        i = j + 1
    return blocks


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _page_id(path: Path) -> str:
    return path.relative_to(DOCS).as_posix()


def test_block_parser():
    text = (
        "# Title\n\n```python\nx = 1\n```\n\n```bash\nls\n```\n\n"
        '!!! example\n\n    ```python\n    y = x + 1\n    ```\n\n=== "Tab"\n\n'
        "    ```{.python .no-run}\n    import other\n    ```\n\n"
        "````python\n# doc: no-run\n```\n````\n"
    )
    blocks = python_blocks(text)
    assert [(line, code, skip) for line, code, skip in blocks] == [
        (4, "x = 1", False),
        (14, "y = x + 1", False),
        (20, "import other", True),
        (24, "# doc: no-run\n```", True),
    ]


def _runnable_pages():
    """Pages with at least one Python block to run (the others have nothing to
    execute: API-only pages and prose)."""
    return [
        p
        for p in _pages()
        if any(not skip for _, _, skip in python_blocks(p.read_text()))
    ]


@pytest.mark.slow
@pytest.mark.parametrize("page", _runnable_pages(), ids=_page_id)
def test_page_runs(page, tmp_path, monkeypatch):
    text = page.read_text()
    blocks = [(line, code) for line, code, skip in python_blocks(text) if not skip]
    assert blocks, f"{page} has no Python block to run"
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name = page.relative_to(ROOT).as_posix()
    namespace = {"__name__": "__main__"}
    try:
        for line, code in blocks:
            # Pad so that tracebacks give the line numbers of the Markdown file.
            source = "\n" * (line - 1) + code
            try:
                exec(compile(source, name, "exec"), namespace)
            except Exception as e:
                raise AssertionError(
                    f"The block at {name}:{line} failed: {type(e).__name__}: {e}"
                ) from e
    finally:
        plt.close("all")


def _nav_pages(nav) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in _nav_pages(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in _nav_pages(value)]
    return []


def test_every_page_is_in_the_nav():
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    listed = set(_nav_pages(config["nav"]))
    missing = [p for p in map(_page_id, _pages()) if p not in listed]
    assert not missing, f"pages missing from the nav of mkdocs.yml: {missing}"
    absent = sorted(p for p in listed if not (DOCS / p).is_file())
    assert not absent, f"nav entries without a page: {absent}"


def _offline_hook():
    import importlib.util

    path = DOCS / "_hooks" / "offline_maths.py"
    spec = importlib.util.spec_from_file_location("offline_maths", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_external_resources_are_found():
    hook = _offline_hook()
    html = (
        '<script src="https://cdn.example/mathjax.js"></script>'
        "<script src='//cdn.example/x.js'></script>"
        '<script src="../javascripts/mathjax/tex-mml-chtml.js"></script>'
        '<a href="https://example.org">a link in the text</a>'
        '<link href="https://fonts.example/css" rel="stylesheet">'
        '<link rel="canonical" href="https://example.org/page/">'
    )
    assert hook.external_resources(html) == [
        "https://cdn.example/mathjax.js",
        "//cdn.example/x.js",
        "https://fonts.example/css",
    ]


def test_site_loads_nothing_from_other_sites(tmp_path):
    """The built site renders its maths offline: no script or stylesheet from
    another site in the configuration, and the build's check rejects any page
    that loads one (every `mkdocs build` runs it, so `nox -s docs` does too)."""
    yaml = pytest.importorskip("yaml")
    text = (ROOT / "mkdocs.yml").read_text()
    config = yaml.safe_load(text)
    for key in ("extra_javascript", "extra_css"):
        for entry in config.get(key, []):
            src = entry if isinstance(entry, str) else entry["path"]
            assert not re.match(r"(https?:)?//", src), f"{key}: {src} is external"
    assert config["theme"].get("font") is False  # no web fonts
    assert "docs/_hooks/offline_maths.py" in config["hooks"]
    hook = _offline_hook()
    (tmp_path / "ok.html").write_text('<script src="js/a.js"></script>')
    hook.check_site(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.html").write_text(
        '<script src="https://unpkg.com/mathjax@3/es5/tex-mml-chtml.js"></script>'
    )
    with pytest.raises(RuntimeError, match="sub/bad.html"):
        hook.check_site(tmp_path)


_API_NAMESPACES = (
    "neuromass",
    "neuromass.models",
    "neuromass.coupling",
    "neuromass.noise",
    "neuromass.equations",
    "neuromass.stimuli",
    "neuromass.control",
    "neuromass.monitors",
    "neuromass.metrics",
    "neuromass.sweeps",
    "neuromass.datasets",
    "neuromass.viz",
    "neuromass.utils",
)


def test_every_public_object_has_an_api_entry():
    """Every public class and function of the namespaces above has a
    `::: neuromass.X` entry in docs/api/*.md (under any namespace that exports
    it: `nm.GridAxis` is documented as `neuromass.sweeps.GridAxis`)."""
    import importlib
    import inspect

    documented = set()
    for page in (DOCS / "api").glob("*.md"):
        documented |= set(re.findall(r"^::: ([\w.]+)", page.read_text(), re.M))
    by_object = {}
    for name in _API_NAMESPACES:
        module = importlib.import_module(name)
        for attr in dir(module):
            obj = getattr(module, attr)
            if attr.startswith("_") or inspect.ismodule(obj):
                continue
            if not getattr(obj, "__module__", "").startswith("neuromass"):
                continue  # e.g. typing names imported by neuromass.utils
            if inspect.isclass(obj) or inspect.isfunction(obj):
                by_object.setdefault(id(obj), (obj, []))[1].append(f"{name}.{attr}")
    missing = sorted(
        paths[0] for obj, paths in by_object.values() if not set(paths) & documented
    )
    assert not missing, f"public objects without a `:::` entry in docs/api: {missing}"


def _figure_script():
    import importlib.util

    path = DOCS / "_scripts" / "make_figures.py"
    spec = importlib.util.spec_from_file_location("make_figures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pictures_are_small_shown_and_generated():
    """Every picture shown by the docs or the README is in docs/images, under 150
    kB, and made by docs/_scripts/make_figures.py from an example (or the demo)
    that the test suite runs (tests/test_examples.py, tests/test_cli.py); every
    picture in docs/images is shown somewhere."""
    figures = _figure_script().FIGURES
    shown = set()
    for page in [*_pages(), ROOT / "README.md"]:
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", page.read_text()):
            path = (page.parent / target).resolve()
            assert path.is_file(), f"{page.name} shows {target}, which does not exist"
            assert path.stat().st_size < 150_000, f"{target} is too large"
            if path.parent == DOCS / "images":
                shown.add(path.name)
    stored = {p.name for p in (DOCS / "images").glob("*.png")}
    assert stored == shown == set(figures)
    for name in stored:
        size = (DOCS / "images" / name).stat().st_size
        assert size < 150_000, f"docs/images/{name} is {size} bytes"
    from test_examples import CASES

    tested = {f"examples/{case[0]}" for case in CASES}
    for name, (args, _) in figures.items():
        assert args[0] in tested or args[:2] == ["-m", "neuromass"], name


def _crossrefs_extension():
    import importlib.util

    path = DOCS / "_hooks" / "griffe_crossrefs.py"
    spec = importlib.util.spec_from_file_location("griffe_crossrefs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plain_names_become_links_on_the_site():
    """Docstrings write `neuromass.X` in plain backticks (readable in `help()`);
    the docs build links them (docs/_hooks/griffe_crossrefs.py, loaded by
    mkdocs.yml)."""
    ext = _crossrefs_extension()
    text = (
        "See `neuromass.simulate` and `neuromass.models`.\n"
        "Already a link: [`neuromass.fit`][], [`fc`][neuromass.metrics.fc].\n"
        "Not a name: `neuromass.fit(net)`, `nm.simulate`, ``neuromass.x``.\n"
        "```python\nx = `neuromass.simulate`\n```\n"
        "After the fence: `neuromass.datasets.LeadField`."
    )
    modules = {"neuromass.models"}
    assert ext.link_names(text, modules.__contains__) == (
        "See [`neuromass.simulate`][] and `neuromass.models`.\n"
        "Already a link: [`neuromass.fit`][], [`fc`][neuromass.metrics.fc].\n"
        "Not a name: `neuromass.fit(net)`, `nm.simulate`, ``neuromass.x``.\n"
        "```python\nx = `neuromass.simulate`\n```\n"
        "After the fence: [`neuromass.datasets.LeadField`][]."
    )
    config = (ROOT / "mkdocs.yml").read_text()
    assert "docs/_hooks/griffe_crossrefs.py:CrossRefs" in config


def test_docstrings_read_well_in_help():
    """No public docstring shows mkdocs-autorefs' link syntax
    (`` [`neuromass.X`][] ``) in `help()`: they write `` `neuromass.X` ``, which
    the docs build links."""
    import importlib
    import inspect

    link = re.compile(r"\[`[\w.()]+`\]\[[\w.]*\]")  # [`name`][] or [`x`][target]
    bad = []
    for name in _API_NAMESPACES:
        module = importlib.import_module(name)
        for attr in dir(module):
            obj = getattr(module, attr)
            where = getattr(obj, "__module__", "") or ""
            if attr.startswith("_") or not where.startswith("neuromass"):
                continue
            docs = [inspect.getdoc(obj) or ""]
            if inspect.isclass(obj):
                docs += [
                    inspect.getdoc(m) or ""
                    for k, m in vars(obj).items()
                    if not k.startswith("_") or k == "__init__"
                ]
            if any(link.search(d) for d in docs):
                bad.append(f"{name}.{attr}")
    assert not bad, f"docstrings with mkdocs link syntax: {sorted(set(bad))}"
