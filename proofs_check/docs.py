"""Write ``docs/theorems/<id>.md`` (a page per statement) and ``docs/theorems/index.md``.

Each page is generated from the registry (statement, hypotheses, choices, notes,
how it is checked, the symbolic obligation's docstring) plus a **Latest report** section with the
figures of a run: run the report here (``python -m proofs_check.docs``, default ci profile and
seed) or render a saved one (``--from-json report.json``, as written by ``proofs-check run
--json``).
"""
from __future__ import annotations

import argparse
import inspect
import json
import pathlib
import sys

from . import registry, runner

DEFAULT_DIR = pathlib.Path(__file__).resolve().parent.parent / "docs" / "theorems"


def _num(x) -> str:
    return "-" if x is None else f"{x:.3g}"


def _report_section(res: dict, seed, profile) -> str:
    proved = {True: "yes", False: "DISPROVED", None: "-"}[res.get("proved")]
    lines = ["## Latest report", "",
             f"Run `proofs-check run {res['id']} --seed {seed} --profile {profile}`.", "",
             "| status | examples | worst relative margin | decided at high precision | proved "
             "symbolically | seconds |", "|---|---|---|---|---|---|",
             f"| {res['status']} | {res['examples']} | {_num(res.get('worst_margin'))} | "
             f"{res.get('mpmath_rechecks', 0)} | {proved} | {res['seconds']:.1f} |", "",
             "Columns: see the [report's legend](index.md#columns).", ""]
    if res.get("proof_detail"):
        lines += [f"Symbolic obligation: {res['proof_detail']}", ""]
    for k, v in (res.get("stats") or {}).items():
        lines.append(f"- `{k}` over the drawn instances: min {_num(v['min'])}, max {_num(v['max'])}")
    if res.get("stats"):
        lines.append("")
    if res.get("message"):
        lines += ["Message: " + res["message"].splitlines()[0], ""]
    ce = res.get("counterexample")
    if ce:
        head = ("Counterexample (the claim is known to be false; this is the finding)"
                if res["status"] == "refuted" else "Counterexample / failing instance")
        lines += [f"{head}:", "", "```", ce.get("repr", ""), "```"]
        if "margin" in ce:
            lines += ["", f"margin {ce['margin']:.6g}; components "
                      f"{json.dumps(ce.get('detail', {}).get('components'))}"]
        if ce.get("flows_command"):
            lines += ["", "Replay:", "", "```sh", ce["flows_command"], "```"]
        if ce.get("error"):
            lines += ["", f"Error: `{ce['error']}`"]
        lines.append("")
    worst = res.get("worst_example")
    if worst and res["status"] == "pass":
        comps = json.dumps(worst.get("detail", {}).get("components"))
        lines += ["Closest call (the instance with the smallest margin):", "", "```",
                  worst.get("repr", ""), "```", "", f"components {comps}", ""]
        if worst.get("flows_command"):
            lines += ["```sh", worst["flows_command"], "```", ""]
    return "\n".join(lines)


def page(st: registry.Statement, res: dict | None, seed, profile) -> str:
    lines = [f"# `{st.id}` — {st.title}", "", f"*Source:* {st.source}  ", f"*Expected:* "
             f"{st.expected}" + (f"  \n*See also:* [`{st.partner}`]({st.partner}.md)"
                                 if st.partner else ""), "",
             "## Statement", "", st.statement, "",
             "## Hypotheses generated", "", st.hypotheses, "",
             "## Choices", ""] + [f"- {c}" for c in st.choices] + [
             "", "## Notes", "", st.notes or "-", "",
             "## How it is checked", "", st.method, ""]
    if st.proof is not None:
        lines += ["Symbolic proof obligation: " + " ".join(
            inspect.getdoc(st.proof).split()), ""]
    check = getattr(st.check, "func", st.check)
    doc = inspect.getdoc(check)
    if doc:
        lines += ["Margin (from the check's docstring):", "", "> " + " ".join(doc.split()), ""]
    if res is not None:
        lines.append(_report_section(res, seed, profile))
    return "\n".join(lines).rstrip() + "\n"


def index(report: dict) -> str:
    lines = ["# Theorem report", "",
             f"Seed {report['seed']}, profile {report.get('profile', 'ci')}; versions "
             + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + ".", "",
             "| id | status | examples | worst rel. margin | hp | proved | seconds |",
             "|---|---|---|---|---|---|---|"]
    for r in report["results"]:
        proved = {True: "yes", False: "DISPROVED", None: "-"}[r.get("proved")]
        lines.append(f"| [`{r['id']}`]({r['id']}.md) | {r['status']} | {r['examples']} | "
                     f"{_num(r.get('worst_margin'))} | {r.get('mpmath_rechecks', 0)} | {proved} "
                     f"| {r['seconds']:.1f} |")
    from .cli import LEGEND
    lines += ["", "## Columns", "", "```text", LEGEND, "```"]
    lines += ["", "`refuted` marks a claim known to be false (docs/math.md §5) that keeps "
              "producing its counterexample; its corrected statement is listed beside it.", ""]
    return "\n".join(lines)


def write(report: dict, out_dir: pathlib.Path = DEFAULT_DIR) -> list[pathlib.Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    by_id = {r["id"]: r for r in report["results"]}
    written = []
    for st in registry.statements():
        path = out_dir / f"{st.id}.md"
        path.write_text(page(st, by_id.get(st.id), report["seed"], report.get("profile", "ci")))
        written.append(path)
    (out_dir / "index.md").write_text(index(report))
    return written + [out_dir / "index.md"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m proofs_check.docs", description=__doc__)
    p.add_argument("--from-json", default=None, help="render a saved report instead of running")
    p.add_argument("--out", default=str(DEFAULT_DIR))
    p.add_argument("--seed", type=int, default=runner.DEFAULT_SEED)
    p.add_argument("--profile", choices=tuple(runner.PROFILES), default=runner.DEFAULT_PROFILE)
    args = p.parse_args(argv)
    if args.from_json:
        report = json.loads(pathlib.Path(args.from_json).read_text())
    else:
        report = runner.run(profile=args.profile, seed=args.seed).to_json()
    for path in write(report, pathlib.Path(args.out)):
        print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
