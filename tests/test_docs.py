"""Every code example in ``docs/**/*.md`` runs, so the docs cannot rot.

* ```` ```python ```` blocks of one page run in order in one namespace (later blocks may use
  earlier names), in a temporary working directory where ``examples/`` (the dataset and claim
  files) is reachable as from the repository's root.  A block whose first line is
  ``# doctest: skip`` is not run (for fragments that are not self-contained; use sparingly).
* ```` ```bash ```` / ```` ```console ```` lines starting with ``flows experiment`` are run
  through :func:`numerics.cli.main` with ``--quick``, ``--workers 1`` and ``--no-progress``
  appended and ``--out`` redirected into the temporary directory: the documented command must
  parse and run (at full size the runs take minutes; ``tests/test_experiments.py`` covers them).
  Other ``flows`` lines are run as given (they are fast).
"""
from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.S | re.M)


def pages():
    return sorted(DOCS.rglob("*.md")) if DOCS.is_dir() else []


def blocks(path: Path, langs) -> list[str]:
    return [m.group(2) for m in FENCE.finditer(path.read_text()) if m.group(1) in langs]


def _id(path: Path) -> str:
    return str(path.relative_to(DOCS))


PY_PAGES = [p for p in pages() if blocks(p, {"python"})]
SHELL_PAGES = [p for p in pages() if any(line.strip().lstrip("$ ").startswith("flows ")
                                         for b in blocks(p, {"bash", "console", "sh"})
                                         for line in b.splitlines())]


def test_docs_exist():
    assert (DOCS / "tutorial.md").exists()
    assert PY_PAGES, "no python examples found in docs/"


def _in_a_root_like_directory(tmp_path, monkeypatch):
    """Work in ``tmp_path`` (files the examples write land there) with ``examples/`` visible as
    from the repository's root, where the docs tell the reader to run them."""
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("page", PY_PAGES, ids=_id)
def test_python_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # the packages, whatever the working directory
    _in_a_root_like_directory(tmp_path, monkeypatch)
    namespace = {"__name__": f"docs_{page.stem}"}
    for i, code in enumerate(blocks(page, {"python"})):
        if code.lstrip().startswith("# doctest: skip"):
            continue
        try:
            exec(compile(code, f"{_id(page)}[block {i}]", "exec"), namespace)
        except Exception as exc:  # re-raise with the page and block named
            raise AssertionError(f"{_id(page)} python block {i} failed: {exc!r}\n{code}") from exc


def _shell_commands(page: Path) -> list[list[str]]:
    out = []
    for b in blocks(page, {"bash", "console", "sh"}):
        for line in b.splitlines():
            line = line.strip()
            if line.startswith("$ "):
                line = line[2:]
            if line.startswith("flows "):
                out.append(shlex.split(line.split("#")[0])[1:])
    return out


@pytest.mark.parametrize("page", SHELL_PAGES, ids=_id)
def test_flows_commands_run(page, tmp_path, monkeypatch, capsys):
    from numerics.cli import main
    _in_a_root_like_directory(tmp_path, monkeypatch)
    for argv in _shell_commands(page):
        if argv[0] == "experiment":
            if "--out" in argv:
                k = argv.index("--out")
                argv[k + 1] = os.fspath(tmp_path / Path(argv[k + 1]).name)
            argv = argv + [a for a in ("--quick", "--no-progress") if a not in argv]
            if "--workers" not in argv:
                argv += ["--workers", "1"]
        status = main(argv)
        err = capsys.readouterr().err
        assert status == 0, f"{_id(page)}: `flows {' '.join(argv)}` exited {status}: {err}"
