"""Execute every jupytext notebook under notebooks/ at smoke size (CI_MODE=1).

Each ``notebooks/*.py`` (py:percent) is converted in memory with jupytext and run by
nbclient in a fresh kernel with the repository root as working directory; any cell
error fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ should hold jupytext percent scripts"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_ci_mode(path, monkeypatch):
    import jupytext
    import nbclient

    monkeypatch.setenv("CI_MODE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    nb = jupytext.read(path)
    assert sum(c.cell_type == "code" for c in nb.cells) >= 2, "notebook has too few cells"
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()
