"""Griffe extension for the API pages: Sphinx roles in docstrings become code spans.

The docstrings are numpydoc, written for Python's ``help()`` as much as for this site,
and cite other objects with Sphinx roles (``:class:`sinter.Sampler```,
``:func:`~sim.collect```).  Markdown would print the role names; this extension turns
each role into a plain code span (``sinter.Sampler``, ``collect`` for a ``~`` target).
"""

from __future__ import annotations

import re

from griffe import Extension

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const|ref|doc):`~?([^`]+)`")


def _plain(match: re.Match) -> str:
    target = match.group(1)
    if match.group(0).split("`")[1].startswith("~"):
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


class RstRoles(Extension):
    def on_instance(self, *, obj, **kwargs) -> None:
        doc = getattr(obj, "docstring", None)
        if doc is not None and ":`" in doc.value:
            doc.value = ROLE.sub(_plain, doc.value)
