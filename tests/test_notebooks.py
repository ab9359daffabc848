"""The notebooks in ``notebooks/`` (jupytext percent scripts) run from top to bottom.

Each is converted with jupytext and executed by nbclient in a fresh kernel, in ``notebooks/`` as
its working directory (the notebooks read ``../examples``).  Every assertion inside a notebook is
part of the test; a cell that raises fails it with the cell's error.  Sizes are small: each
notebook takes 10-25 s here, kernel start included (measured, not asserted).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))
#: Per-cell limit: a hang guard only (the slowest cell takes ~5 s).
CELL_TIMEOUT_S = 120


def test_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == ["01_lecture.py", "02_checking_a_claim.py"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, monkeypatch):
    # the kernel is this interpreter (its spec may name a bare "python"), with the project
    # importable even without an installed checkout
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    nb = jupytext.read(path)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{path.name}: {exc}")
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} drew no figure"
