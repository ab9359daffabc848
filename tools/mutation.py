"""Mutation testing of the core formulas with mutmut (docs/mutation.md; not run in CI).

    pip install -e ".[mutation]"
    python tools/mutation.py                      # the four default modules, ~35 min (2 cores)
    python tools/mutation.py --modules theory/pieces.py --max-children 2
    python tools/mutation.py --mutants 'theory.denoisers.x__as_rho__mutmut_*' --out again.json

The working tree (tracked and untracked, not ignored files) is copied into a scratch directory
(``--workdir``), a ``[mutmut]`` section naming the mutated modules and the fast test selection is
written to its ``setup.cfg``, and ``mutmut run`` mutates every module there: each mutant (an
operator, a constant, a comparison changed) is run against the selected tests that execute the
mutated function, stopping at the first failure.  A mutant no test kills *survives*; each
survivor needs a test or a written reason in docs/mutation.md.

The summary (counts per status and module, every survivor with its diff) is printed and written
as JSON (``--out``, default ``bench/mutation.json``), with the modules, the test selection and
the mutmut version.  Progress: mutmut's own counter on stderr.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: The modules whose formulas and conventions the toolkit's results rest on.
MODULES = ("theory/pieces.py", "theory/closed_forms.py", "theory/denoisers.py",
           "numerics/classify.py")

#: Fast tests (about 45 s in all, a few seconds for most mutants): the pinned conventions and
#: the formulas at numbers first, then the unit-level checks of the four modules and the API's
#: argument checks.  The slowest derivation test (the CLI running every derivation, 16 s) is
#: left out: each derivation also has its own test.
TESTS = ("tests/test_conventions.py", "tests/test_formulas.py", "tests/test_denoisers.py",
         "tests/test_classify.py", "tests/test_exact.py", "tests/test_derive.py",
         "tests/test_geometry_theory.py",
         "tests/test_adversarial.py::test_api_raises_documented_type",
         "tests/test_adversarial.py::test_api_wrong_types",
         "tests/test_adversarial.py::test_public_api_with_any_argument")
DESELECT = ("tests/test_derive.py::test_cli_all_exits_0",)

#: Packages copied into mutmut's sandbox (the tests import all of them).
PACKAGES = ("theory", "numerics", "proofs_check", "training")


def _copy_tree(workdir: pathlib.Path) -> None:
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                           cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    for raw in files:
        if not raw:
            continue
        rel = pathlib.Path(raw.decode())
        src = ROOT / rel
        if src.is_file():
            (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, workdir / rel)


def _config(modules, tests, deselect) -> str:
    def block(values):
        return "".join(f"\n    {v}" for v in values)
    pytest_args = ["-p", "no:cacheprovider", "-x", "-q"] + [f"--deselect={d}" for d in deselect]
    return ("[mutmut]\n"
            f"source_paths ={block(PACKAGES)}\n"
            f"only_mutate ={block(modules)}\n"
            f"pytest_add_cli_args ={block(pytest_args)}\n"
            f"pytest_add_cli_args_test_selection ={block(tests)}\n"
            # a mutant that makes a test loop (a wrong formula stalling an integrator) is a kill
            "timeout_multiplier = 4.0\n"
            "timeout_constant = 20.0\n")


def _results(workdir: pathlib.Path) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"],
                         cwd=workdir, capture_output=True, text=True).stdout
    status = {}
    for line in out.splitlines():
        name, sep, verdict = line.strip().rpartition(": ")
        if sep and name:
            status[name] = verdict
    return status


def _diff(workdir: pathlib.Path, name: str) -> str:
    text = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=workdir,
                          capture_output=True, text=True).stdout
    return "\n".join(line for line in text.splitlines()
                     if line[:1] in "+-" and not line.startswith(("+++", "---")))


def _module_of(name: str, modules) -> str:
    dotted = {m[:-3].replace("/", "."): m for m in modules}
    for prefix, module in dotted.items():
        if name.startswith(prefix + "."):
            return module
    return "?"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", nargs="+", default=list(MODULES))
    parser.add_argument("--tests", nargs="+", default=list(TESTS))
    parser.add_argument("--mutants", nargs="+", default=[],
                        help="only these mutants (names or fnmatch patterns such as "
                             "'theory.denoisers.x__as_rho__mutmut_*'); default: all")
    parser.add_argument("--max-children", type=int, default=1,
                        help="mutants run in parallel (default 1: the machine is shared)")
    parser.add_argument("--workdir", default=None,
                        help="scratch directory (default: a new temporary one, kept)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "mutation.json"))
    args = parser.parse_args(argv)
    try:
        import mutmut  # noqa: F401 - only its presence is checked here
    except ImportError:
        print("tools/mutation.py: error: mutmut is not installed; pip install -e "
              "'.[mutation]'", file=sys.stderr)
        return 1
    workdir = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="mutation-"))
    workdir.mkdir(parents=True, exist_ok=True)
    _copy_tree(workdir)
    (workdir / "setup.cfg").write_text(_config(args.modules, args.tests, DESELECT))
    print(f"mutating {', '.join(args.modules)} in {workdir}", file=sys.stderr)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children",
                          str(args.max_children), *args.mutants], cwd=workdir, env=env)
    elapsed = time.perf_counter() - start
    status = {k: v for k, v in _results(workdir).items() if v != "not checked"}
    counts = collections.Counter(status.values())
    per_module = collections.defaultdict(collections.Counter)
    for name, verdict in status.items():
        per_module[_module_of(name, args.modules)][verdict] += 1
    survivors = [{"mutant": name, "module": _module_of(name, args.modules),
                  "diff": _diff(workdir, name)}
                 for name, verdict in sorted(status.items()) if verdict == "survived"]
    from importlib import metadata
    report = {"mutmut_version": metadata.version("mutmut"), "modules": args.modules,
              "mutants": args.mutants or "all",
              "tests": args.tests, "deselected": list(DESELECT), "seconds": round(elapsed, 1),
              "mutmut_exit_status": run.returncode, "counts": dict(counts),
              "per_module": {m: dict(c) for m, c in per_module.items()},
              "survivors": survivors}
    pathlib.Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(f"{len(status)} mutants in {elapsed:.0f} s: " +
          ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for m, c in per_module.items():
        print(f"  {m}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    for s in survivors:
        print(f"survived {s['mutant']}\n{s['diff']}")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
