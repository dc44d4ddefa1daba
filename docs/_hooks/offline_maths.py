"""mkdocs hook: render the maths offline, with MathJax from a Python package.

The docs extra installs `django-static-mathjax` (MathJax 3, Apache-2.0, no
dependencies; only its static files are used). After the build, the parts of
MathJax that the CommonHTML output needs (the `tex-mml-chtml.js` component, its
input/output modules and fonts, the menu) are copied into
`site/javascripts/mathjax/`, which `extra_javascript` in `mkdocs.yml` loads: the
built site needs no network to show its equations.

The build then fails if any page still loads a script or a stylesheet from
another site (`<script src="https://...">`, `<link rel="stylesheet"
href="//...">`): see `external_resources`.
"""

import importlib.util
import re
import shutil
from pathlib import Path


# What `tex-mml-chtml.js` loads at run time, relative to MathJax's `es5/` folder.
_PARTS = ("tex-mml-chtml.js", "input", "output/chtml", "ui", "a11y", "adaptors")


def _mathjax_es5() -> Path:
    spec = importlib.util.find_spec("mathjax")
    if spec is not None and spec.origin is not None:
        es5 = Path(spec.origin).parent / "static" / "mathjax" / "es5"
        if (es5 / "tex-mml-chtml.js").is_file():
            return es5
    raise RuntimeError(
        "MathJax was not found: the documentation renders its maths offline with "
        "the MathJax copy of the `django-static-mathjax` package. Install the docs "
        'extra: pip install ".[docs]".'
    )


def on_config(config, **kwargs):
    _mathjax_es5()  # fail early, before building every page
    return config


def on_post_build(config, **kwargs):
    es5 = _mathjax_es5()
    target = Path(config["site_dir"]) / "javascripts" / "mathjax"
    for part in _PARTS:
        source, dest = es5 / part, target / part
        if source.is_dir():
            shutil.copytree(source, dest, dirs_exist_ok=True)
        elif source.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    check_site(config["site_dir"])


_EXTERNAL = re.compile(
    r"""<(?:script\b[^>]*?\bsrc|link\b[^>]*?\bhref)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""",
    re.IGNORECASE,
)


def external_resources(html: str) -> list[str]:
    """The addresses of scripts and `<link>`ed files (stylesheets, fonts) that an
    HTML page loads from another site (`http://`, `https://` or `//`). Links to
    other sites in the text (`<a href=...>`) are not resources and are allowed."""
    found = []
    for match in _EXTERNAL.finditer(html):
        end = html.find(">", match.end())
        tag = html[match.start() : end + 1 if end >= 0 else None].lower()
        if tag.startswith("<link") and not re.search(
            r"rel\s*=\s*[\"']?(stylesheet|preload|preconnect|icon|modulepreload)", tag
        ):
            continue
        found.append(match.group(1))
    return found


def check_site(site_dir) -> None:
    """Raise if any page of the built site loads an external script or stylesheet."""
    bad = {}
    for page in Path(site_dir).rglob("*.html"):
        found = external_resources(page.read_text(encoding="utf-8", errors="replace"))
        if found:
            bad[page.relative_to(site_dir).as_posix()] = sorted(set(found))
    if bad:
        first = next(iter(bad.items()))
        raise RuntimeError(
            f"{len(bad)} built page(s) load files from other sites, so the site "
            f"needs the network; e.g. {first[0]}: {first[1]}. Serve them from the "
            "site instead (see docs/_hooks/offline_maths.py)."
        )
