"""The theorem checks of :mod:`proofs_check`: every registry entry through the runner (the same
Hypothesis machinery ``proofs-check run`` uses, so both share one definition of each check),
mutation tests proving the checks can fail, and the ``proofs-check`` command line."""
from __future__ import annotations

import json
from dataclasses import replace
from functools import partial

import pytest
from hypothesis import strategies as st

from proofs_check import cli, instances as inst, registry, runner
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
            "thm-4.4-taylor-fixed-kinks", "thm-B.1", "thm-B.2", "thm-B.3-exact", "thm-B.3-taylor",
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
    fake = inst.obtuse_datasets(min_lam=0.5, exact=False).map(
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
