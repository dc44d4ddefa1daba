"""Griffe extension: plain backticked `neuromass.X` names in docstrings become links.

Docstrings are read in two places: on the documentation site (mkdocstrings) and in
`help()` / IPython's `?`. mkdocs-autorefs' cross-reference syntax
``[`neuromass.simulate`][]`` shows up raw in `help()`, so neuromass docstrings write
the plain name in backticks, `` `neuromass.simulate` ``, which reads well in a
terminal; this extension turns every such name into the cross-reference
``[`neuromass.simulate`][]`` when mkdocstrings loads the docstring.

Only a whole code span holding a dotted name that starts with `neuromass.` is
linked (module names stay plain); spans inside fenced code blocks, and spans
already written as links, are left alone. The site is built with `--strict`, so
a name that has no API entry fails the build, as a mistyped explicit link would.

Loaded by `mkdocs.yml` (`plugins.mkdocstrings.handlers.python.options.extensions`).
"""

import re

import griffe


_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
# A code span holding only a dotted `neuromass.` name, not already the text of a link
# (`[` before it) and not followed by a link target (`]` after it).
_NAME = re.compile(r"(?<![\[`])`(neuromass(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`(?![`\]])")


def link_names(text: str, is_module=lambda name: False) -> str:
    """Return `text` with plain backticked `neuromass.X` names written as autorefs
    cross-references, outside fenced code blocks. Names of modules (for which
    `is_module(name)` is true) stay plain: the API pages document objects, not
    modules."""

    def link(match: re.Match) -> str:
        name = match.group(1)
        return match.group(0) if is_module(name) else f"[`{name}`][]"

    out = []
    fence = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if match:
            mark = match.group(1)
            if fence is None:
                fence = mark
            elif mark[0] == fence[0] and len(mark) >= len(fence):
                fence = None
            out.append(line)
            continue
        out.append(line if fence is not None else _NAME.sub(link, line))
    return "\n".join(out)


class CrossRefs(griffe.Extension):
    """Link plain backticked `neuromass.X` names in every docstring."""

    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kw):
        docstring = obj.docstring
        if docstring is None or "`neuromass." not in docstring.value:
            return

        def is_module(name: str) -> bool:
            try:
                return loader.modules_collection[name].is_module
            except (KeyError, ValueError, griffe.AliasResolutionError):
                return False

        docstring.value = link_names(docstring.value, is_module)
