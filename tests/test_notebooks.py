"""Execute every jupytext notebook under notebooks/ at smoke size (CI_MODE=1).

Each ``notebooks/*.py`` (py:percent) is converted in memory with jupytext and run by
nbclient in a fresh kernel started in ``notebooks/`` (as Jupyter starts it; the first
cell moves to the repository root), headless with ``MPLBACKEND=Agg`` set here, not in
the notebook; any cell error fails the test.  ``make notebooks`` writes the ``.ipynb``.
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
    # started in notebooks/, as Jupyter starts it: the first cell moves to the root
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}}
    )
    client.execute()
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "os.chdir" in first.source, "the first code cell should move to the repository root"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_leaves_the_backend_to_jupyter(path):
    """Inline figures in Jupyter: no notebook forces a backend (CI sets MPLBACKEND)."""
    source = path.read_text()
    assert "matplotlib.use(" not in source and "%matplotlib" not in source


def test_make_notebooks_writes_valid_ipynb(tmp_path):
    import jupytext
    import nbformat

    assert "\nnotebooks:" in (ROOT / "Makefile").read_text()
    for path in NOTEBOOKS:
        nb = jupytext.read(path)
        out = tmp_path / f"{path.stem}.ipynb"
        jupytext.write(nb, out)
        back = nbformat.read(out, as_version=4)
        nbformat.validate(back)
        assert [c.source for c in back.cells] == [c.source for c in nb.cells]
