"""The theorem checks of :mod:`proofs_check`: every registry entry through the runner (the same
Hypothesis machinery ``proofs-check run`` uses, so both share one definition of each check),
mutation tests proving the checks can fail, and the ``proofs-check`` command line."""
from __future__ import annotations

import json
import pathlib
import time
from dataclasses import replace
from functools import partial

import pytest
from hypothesis import strategies as st

from proofs_check import cli, instances as inst, registry, runner, strategies as pcs
from proofs_check.registry import Margin, Statement, combine
from proofs_check.statements import sec4
from theory.datasets import OrthogonalDataset
from theory.denoisers import RidgeDenoiser, min_cost_denoiser
from theory.pieces import UnitPieces

#: Examples per statement in the registry sweep: enough to exercise each check's branches in CI
#: (the full ci profile runs in ``proofs-check run``); expected refutations get the profile's count
#: because they must find their counterexample.
SWEEP_EXAMPLES = 6
MUTATION_EXAMPLES = 10

ALL = registry.statements()


@pytest.mark.parametrize("statement", ALL, ids=[s.id for s in ALL])
def test_statement_has_expected_status(statement):
    examples = None if statement.expected == "refuted" else SWEEP_EXAMPLES
    # no shrinking here (bounded test time): a failure still reports its counterexample
    res = runner.run_statement(statement, examples=examples,
                               shrink=statement.expected == "refuted")
    assert res.status == statement.expected, (res.message, res.counterexample)
    assert res.examples >= 1
    if statement.expected == "refuted":
        assert res.counterexample["margin"] <= 0
        assert res.counterexample["flows_command"].startswith("printf")
    else:
        assert res.worst_margin > 0
    if statement.proof is not None:
        assert res.proved is True, res.proof_detail


def test_registry_ids_cover_the_paper():
    want = {"prop-4.1", "thm-4.2", "thm-4.3-i", "thm-4.3-ii", "thm-4.4-exact", "thm-4.4-taylor",
            "thm-4.4-taylor-fixed-kinks", "thm-4.4-sigma-min", "thm-B.1", "thm-B.2", "thm-B.3-exact", "thm-B.3-taylor",
            "thm-B.3-taylor-fixed-kinks", "thm-B.3-taylor-fixed-kinks-inactive", "prop-C.1",
            "c0-threshold"}
    assert want == set(registry.ids())
    refuted = registry.get("thm-B.3-taylor-fixed-kinks-inactive")
    assert refuted.expected == "refuted" and refuted.partner == "thm-B.3-taylor-fixed-kinks"


def test_unknown_id_and_bad_expected():
    with pytest.raises(registry.UnknownStatementError, match="known ids"):
        registry.get("thm-9.9")
    with pytest.raises(ValueError, match="expected"):
        replace(ALL[0], expected="maybe")


def test_combine_picks_the_smallest_component_and_nan():
    assert combine({"a": 0.5, "b": -1.0}) == (-1.0, "b")
    value, name = combine({"a": 0.5, "b": float("nan")})
    assert name == "b" and value != value
    assert not Margin(float("nan")).passed and not Margin(0.0).passed and Margin(1e-30).passed


# -- mutation tests: each broken ingredient must be caught with a counterexample --------------
def perturbed_slope(delta: float):
    """A denoiser factory whose units' middle slope is scaled by ``1 + delta`` (the ReLU network
    with the ramp's output weight perturbed: continuous, but it no longer interpolates)."""
    def factory(dataset, rho, model):
        dn = min_cost_denoiser(dataset, rho, model)
        units = []
        for u in dn.units:
            (A, B), (Au, Bu) = u.coefficients["linear"], u.coefficients["upper"]
            coeffs = dict(u.coefficients, linear=((1 + delta) * A, (1 + delta) * B),
                          upper=(Au, (1 + delta) * Bu))
            units.append(UnitPieces(u.k_lo, u.k_hi, coeffs))
        return RidgeDenoiser(dataset, dn.rho, model, dn.origin, dn.directions, units)
    return factory


def _caught(res):
    assert res.status == "fail", res.message
    assert res.counterexample is not None and res.counterexample["margin"] <= 0
    assert "flows endpoint" in res.counterexample["flows_command"]


@pytest.mark.parametrize("statement_id, check", [
    ("prop-4.1", sec4.check_prop_4_1),
    ("thm-4.2", sec4.check_thm_4_2),
])
def test_perturbed_middle_slope_is_caught(statement_id, check):
    st_ = registry.get(statement_id)
    res = runner.run_statement(st_, examples=MUTATION_EXAMPLES, run_proof=False,
                               check=partial(check, denoiser=perturbed_slope(0.05)), shrink=False)
    _caught(res)


def test_wrong_c0_is_caught():
    def wrong(ds, y0, sigma_max, model):
        c0 = sec4._c0_closed_form(ds, y0, sigma_max, model)
        return None if c0 is None else 1.05 * c0
    res = runner.run_statement(registry.get("c0-threshold"), examples=MUTATION_EXAMPLES,
                               run_proof=False, check=partial(sec4.check_c0_threshold, c0=wrong),
                               shrink=False)
    _caught(res)
    assert res.counterexample["detail"]["components"]["agreement"] < 0
    # aim at the window the 5% error misclassifies: c in (c_0, 1.05 c_0) flows to a vertex
    window = sec4.thm_4_4_instances("exact", deltas=st.floats(0.005, 0.045), sides=("above",))
    res = runner.run_statement(registry.get("thm-4.4-exact"), examples=40, strategy=window,
                               check=partial(sec4.check_thm_4_4, c0=wrong), shrink=False)
    _caught(res)


class UncheckedOrthogonal(OrthogonalDataset):
    """An 'orthogonal' dataset that skips the angle check (the mutation)."""

    def _check_angles(self):
        pass


def test_non_orthogonal_data_passed_as_orthogonal_is_caught():
    fake = pcs.obtuse_simplices_to_regular(max_N=3, extra_dims=2, min_lam=0.5).map(
        lambda ds: UncheckedOrthogonal(ds.to_json()["points"]))

    @st.composite
    def instances(draw):
        ds = draw(fake)
        return inst.Instance(ds, "exact", rho=inst.rho_max(ds) * draw(st.floats(0.05, 0.5)),
                             y0=tuple(float(x) for x in ds.apex))

    res = runner.run_statement(registry.get("thm-4.2"), examples=MUTATION_EXAMPLES,
                               run_proof=False, strategy=instances(), shrink=False)
    _caught(res)


def test_refuted_claim_that_stops_refuting_is_a_failure():
    st_ = registry.get("thm-B.3-taylor-fixed-kinks-inactive")
    always = lambda instance: Margin(1.0)  # noqa: E731 - a 'fixed' model: no counterexample
    res = runner.run_statement(st_, examples=3, check=always)
    assert res.status == "fail" and "expected a counterexample" in res.message


def test_check_error_is_reported_as_error():
    def boom(instance):
        raise ZeroDivisionError("broken check")
    res = runner.run_statement(registry.get("thm-4.2"), examples=3, check=boom, run_proof=False,
                               shrink=False)
    assert res.status == "error" and "broken check" in res.message


# -- the command line ----------------------------------------------------------------------------
def test_cli_list_and_explain(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(s.id in out for s in ALL)
    assert cli.main(["explain", "thm-B.3-taylor-fixed-kinks-inactive"]) == 0
    out = capsys.readouterr().out
    assert "expected: refuted" in out and "how it is checked" in out and "choices" in out


@pytest.mark.parametrize("argv", [[], ["frob"], ["explain"], ["explain", "thm-0"],
                                  ["run", "thm-0"], ["run", "--profile", "huge"],
                                  ["run", "--examples", "0"], ["run", "--seed", "x"]])
def test_cli_usage_errors_exit_2_with_one_line(argv, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("proofs-check: error:") and "\n" not in err


def test_cli_run_writes_json_report(tmp_path, capsys):
    path = tmp_path / "report.json"
    code = cli.main(["run", "thm-4.2", "c0-threshold", "--examples", "4", "--seed", "7",
                     "--json", str(path)])
    captured = capsys.readouterr()
    assert code == 0, captured.out
    assert "[1/2] thm-4.2" in captured.err and "c0_gap_rel in [" in captured.out
    report = json.loads(path.read_text())
    assert report["seed"] == 7 and {"sympy", "numpy", "hypothesis"} <= set(report["versions"])
    keys = {"id", "statement", "status", "examples", "worst_margin", "proved", "counterexample",
            "seconds"}
    for r in report["results"]:
        assert keys <= set(r)
        assert r["status"] in registry.STATUSES
    by_id = {r["id"]: r for r in report["results"]}
    assert by_id["thm-4.2"]["status"] == "pass" and by_id["thm-4.2"]["proved"] is True
    assert by_id["thm-4.2"]["examples"] == 4 and by_id["thm-4.2"]["counterexample"] is None


def test_cli_run_exits_1_on_failure(monkeypatch, capsys):
    base = registry.get("thm-4.2")
    # fails on every instance: the shrunk counterexample is the simplest instance
    broken = replace(base, id="broken-4.2", proof=None,
                     check=lambda i: Margin(-1.0, {}, i.flows_command()))
    monkeypatch.setitem(registry._REGISTRY, "broken-4.2", broken)
    assert cli.main(["run", "broken-4.2", "--examples", "3"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "replay: printf" in out and "margin -1" in out


def test_statement_fields_are_complete():
    for s in ALL:
        assert isinstance(s, Statement)
        assert s.statement and s.hypotheses and s.method and s.source and s.choices


def test_docs_pages_render_a_report(tmp_path):
    from proofs_check import docs
    res = runner.run_statement(registry.get("thm-4.2"), examples=2)
    report = runner.Report(seed=1, profile="ci", results=[res]).to_json()
    written = docs.write(report, tmp_path)
    assert len(written) == len(ALL) + 1
    text = (tmp_path / "thm-4.2.md").read_text()
    assert "## Latest report" in text and "| pass | 2 |" in text and "## Statement" in text
    assert "thm-4.2" in (tmp_path / "index.md").read_text()


# -- margins, the report's columns ----------------------------------------------------------------
EXAMPLES_DIR = pathlib.Path(__file__).resolve().parent.parent / "examples" / "claims"


def _toy(check, **kw):
    """A statement on a trivial strategy (a float in [0, 1]) with the given check."""
    return Statement(id=kw.pop("id", "toy"), title="toy", source="test", statement="s",
                     hypotheses="h", method="m", strategy=lambda: st.floats(0, 1), check=check,
                     **kw)


def test_margins_are_relative_and_high_precision_ones_are_counted_apart():
    m = Margin.from_absolute(2e-3, 2.0)
    assert m.value == pytest.approx(1e-3) and m.absolute == pytest.approx(2e-3) and m.scale == 2.0
    with pytest.raises(ValueError, match="scale"):
        Margin.from_absolute(1.0, 0.0)

    def check(x):  # every other instance "decided at 50 digits" with a sign-only margin
        return Margin(1e-30, mpmath=True) if x < 0.5 else Margin.from_absolute(4.0, 8.0)
    res = runner.run_statement(_toy(check), examples=20, run_proof=False)
    assert res.status == "pass" and res.worst_margin == pytest.approx(0.5)
    assert res.worst_margin_abs == pytest.approx(4.0) and res.mpmath_rechecks >= 1
    only_hp = runner.run_statement(_toy(lambda x: Margin(1e-30, mpmath=True)), examples=5)
    assert only_hp.worst_margin is None and only_hp.mpmath_rechecks == 5


def test_report_explains_its_columns_and_names_the_worst_instance(monkeypatch, capsys):
    monkeypatch.setitem(registry._REGISTRY, "toy-4.2", replace(registry.get("thm-4.2"),
                                                               id="toy-4.2", proof=None))
    assert cli.main(["run", "toy-4.2", "--examples", "2"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[2]
    assert "worst rel. margin" in header and " hp " in header and "proved" in header
    for column in ("status", "examples", "worst rel.", "hp", "proved", "seconds"):
        assert f"\n  {column}" in out  # the legend under the table
    assert "closest calls" in out and "toy-4.2: " in out and "orthogonal d=" in out
    assert "1e-30" not in out


# -- time budget ----------------------------------------------------------------------------------
def test_time_budget_stops_between_examples():
    def slow(x):
        time.sleep(0.15)
        return Margin(1.0)
    res = runner.run_statement(_toy(slow), examples=50, time_budget=0.5, run_proof=False)
    assert res.status == "error" and res.timed_out and res.message.startswith("timeout:")
    assert res.time_budget_s == 0.5 and 1 <= res.examples < 50 and res.seconds < 5
    assert res.counterexample["error"] == "timeout" and "repr" in res.counterexample


def test_time_budget_interrupts_a_hanging_check():
    def hang(x):
        time.sleep(60)  # a check that never returns on its own
        return Margin(1.0)
    start = time.perf_counter()
    res = runner.run_statement(_toy(hang), examples=3, time_budget=1.0, run_proof=False)
    assert time.perf_counter() - start < 10
    assert res.status == "error" and res.timed_out and "at example 1" in res.message
    assert res.to_json()["timed_out"] is True


def test_cli_time_budget_is_recorded_and_validated(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(registry._REGISTRY, "toy", _toy(lambda x: Margin(1.0)))
    path = tmp_path / "r.json"
    assert cli.main(["run", "toy", "--examples", "2", "--time-budget", "30",
                     "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    assert report["time_budget_s"] == 30 and report["results"][0]["time_budget_s"] == 30
    assert cli.main(["run", "toy", "--time-budget", "-1"]) == 2
    assert "--time-budget" in capsys.readouterr().err


# -- command-line bugs ----------------------------------------------------------------------------
def test_cli_unwritable_json_fails_before_running(tmp_path, capsys):
    start = time.perf_counter()
    assert cli.main(["run", "--json", str(tmp_path / "missing" / "r.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert time.perf_counter() - start < 5 and "[1/" not in err  # nothing ran
    assert err.startswith("proofs-check: error: --json") and "\n" not in err


def test_refuted_statement_is_refuted_with_one_example():
    res = runner.run_statement(registry.get("thm-B.3-taylor-fixed-kinks-inactive"), examples=1)
    assert res.status == "refuted" and res.counterexample["margin"] <= 0


def test_dev_profile_is_accepted():
    assert runner.example_count(registry.get("thm-4.2"), "dev") == runner.PROFILES["dev"]
    assert cli.build_parser().parse_args(["run", "--profile", "dev"]).profile == "dev"


# -- your own conjecture: --file ------------------------------------------------------------------
def test_false_claim_fails_and_corrected_claim_passes_via_file(capsys):
    false, corrected = EXAMPLES_DIR / "false_claim.py", EXAMPLES_DIR / "corrected_claim.py"
    assert cli.main(["run", "--file", str(false), "--examples", "20"]) == 1
    out = capsys.readouterr().out
    assert "my-flow-ends-at-vertex" in out and "FAILED" in out and "replay: printf" in out
    assert cli.main(["run", "--file", str(corrected), "--examples", "20"]) == 0
    out = capsys.readouterr().out
    assert "my-flow-vertex-iff-above-c0  pass" in out
    assert "my-flow-ends-at-vertex" not in registry.ids()  # user files never join the built-ins


@pytest.mark.parametrize("body, needle", [
    (None, "no such file"),
    ("def f(:\n", "syntax error on line 1"),
    ("raise RuntimeError('boom')\n", "RuntimeError (line 1): boom"),
    ("x = 1\n", "defines no Statement"),
    ("from proofs_check import registry\nS = registry.get('thm-4.2')\n", "built-in id"),
])
def test_bad_statement_files_are_one_line(tmp_path, capsys, body, needle):
    path = tmp_path / "claim.py"
    if body is not None:
        path.write_text(body)
    assert cli.main(["run", "--file", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("proofs-check: error: --file") and needle in err and "\n" not in err


def test_public_strategy_api_has_one_definition_each_and_is_documented():
    from proofs_check import instances, strategies
    assert set(strategies.__all__).isdisjoint(instances.__all__)
    for name in ("orthogonal_datasets", "equilateral_triangles", "obtuse_datasets", "any_dataset",
                 "rotations"):
        assert not hasattr(instances, name)
    guide = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "conjectures.md").read_text()
    for mod in (strategies, instances):
        for name in mod.__all__:
            obj = getattr(mod, name)
            assert not callable(obj) or obj.__doc__, f"{mod.__name__}.{name} has no docstring"
            if callable(obj) and not isinstance(obj, type) or name in ("Instance", "REPORT_SIZES"):
                assert f"`{name}(" in guide or f"`{name} " in guide or f"`{name}`" in guide, \
                    f"{mod.__name__}.{name} is not in docs/conjectures.md"


# -- obligations prove what the code computes -----------------------------------------------------
def test_mutated_b1_criterion_breaks_check_and_obligation(monkeypatch):
    import sympy as sp
    from theory import stationary
    original = stationary.thm_b1_criterion

    def criterion_10_percent_off(dataset, subset, rho=stationary.RHO):
        worst = sp.sympify(rho) - original(dataset, subset, rho)
        return sp.sympify(rho) - sp.Rational(11, 10) * worst

    monkeypatch.setattr(stationary, "thm_b1_criterion", criterion_10_percent_off)
    statement = registry.get("thm-B.1")
    assert statement.proof().proved is False
    res = runner.run_statement(statement, examples=40, shrink=False)
    assert res.status == "fail" and res.proved is not True


def test_mutated_equilateral_kink_breaks_check_and_obligation(monkeypatch):
    import sympy as sp
    from theory import denoisers
    from theory.datasets import EquilateralTriangle
    from theory.pieces import general_ramp
    original = denoisers.equilateral_ramp

    def moved(R, rho):  # the triangle's lower kink moved by 5% of the ramp's width
        unit = original(R, rho)
        return general_ramp(unit.k_lo + (unit.k_hi - unit.k_lo) / 20, unit.k_hi,
                            unit.coefficients["linear"][0])
    monkeypatch.setattr(denoisers, "equilateral_ramp", moved)
    assert sec4.proof_prop_4_1().proved is False
    half = sp.Rational(1, 2)
    ds = EquilateralTriangle([[1, 0], [-half, sp.sqrt(3) / 2], [-half, -sp.sqrt(3) / 2]])
    instance = inst.Instance(ds, "exact", rho=0.3, y0=(1.0, 0.0), extra=(("ball", 0),))
    assert not sec4.check_prop_4_1(instance).passed
