"""The symbolic derivations (theory/derive, docs/derivations.md): each runs and verifies, the
command line exits 0 / 1 / 2 as documented, and a wrong closed form in theory/ makes its
derivation fail."""
import io
import subprocess
import sys

import pytest
import sympy as sp

import theory.closed_forms as cf
import theory.derive as derive
from theory.derive import DERIVATIONS, DerivationFailed, Steps, run
from theory.derive.__main__ import main

EXPECTED = {"time_rescaling", "lemma_d3", "lemma_d4", "score_flow_pieces",
            "probability_flow_pieces", "early_stopping", "stationary_orthogonal", "equilateral"}


def test_registry_names():
    assert set(DERIVATIONS) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_derivation_verifies(name):
    out = io.StringIO()
    steps = run(name, out)
    text = out.getvalue()
    assert steps.checks >= 5, f"{name} verified only {steps.checks} claims"
    assert f"{name}: all {steps.checks} checks passed" in text
    assert text.count("[ok]") == steps.checks
    assert "  1. " in text  # numbered steps are printed


def test_early_stopping_gap_is_printed_in_u():
    """Step 8 announces a formula in u = 2 t0/r; the printed expression must not use the helper
    symbol v of the checks (it once did, undefined for the reader)."""
    out = io.StringIO()
    run("early_stopping", out)
    step = out.getvalue().split("  8. ")[1].split("[ok]")[0]
    assert "u" in step.split(":", 1)[1] and "v" not in step.split(":", 1)[1]


# -- the checks themselves can fail --------------------------------------------------------------
def test_failed_identity_names_step_and_residual():
    x = sp.Symbol("x")
    st = Steps("demo", "a deliberately false claim", io.StringIO())
    st.step("x equals x + 1?")
    with pytest.raises(DerivationFailed, match=r"demo, step 1: x = x \+ 1 FAILED .*-1"):
        st.equal(x, x + 1, "x = x + 1")


@pytest.mark.parametrize("verdict", [False, None])
def test_undecided_or_false_verdict_fails(verdict):
    st = Steps("demo", "verdicts", io.StringIO())
    with pytest.raises(DerivationFailed):
        st.holds(verdict, "claim")


def test_positive_needs_a_proof():
    st = Steps("demo", "signs", io.StringIO())
    with pytest.raises(DerivationFailed, match="cannot show"):
        st.positive(sp.Symbol("z", real=True), "z > 0")


def test_list_length_mismatch_fails():
    st = Steps("demo", "lists", io.StringIO())
    with pytest.raises(DerivationFailed, match="2 values"):
        st.equal([1, 2], [1], "lists")


@pytest.mark.parametrize("name, attribute, wrong", [
    # tau_exit off by a factor 2: the solution is no longer on the kink at tau_exit
    ("score_flow_pieces", "tau_exit", lambda f: lambda *a, **k: 2 * f(*a, **k)),
    # the exact linear piece replaced by the Taylor one: no longer solves the exact ODE
    ("probability_flow_pieces", "probability_flow_piece",
     lambda f: lambda piece, model="exact", *a:
         f(piece, "taylor" if model == "exact" else model, *a)),
    # fixed-kinks threshold with the wrong log argument
    ("early_stopping", "c0_coordinate",
     lambda f: lambda model, *a: f(model, *a) * (2 if model == "taylor-fixed-kinks" else 1)),
    # Lemma D.3 with the wrong sign of the shift
    ("lemma_d3", "lemma_d3", lambda f: lambda *a: f(*a) + 1),
])
def test_wrong_closed_form_is_caught(monkeypatch, name, attribute, wrong):
    monkeypatch.setattr(cf, attribute, wrong(getattr(cf, attribute)))
    with pytest.raises(DerivationFailed):
        run(name, io.StringIO())


# -- command line ---------------------------------------------------------------------------------
def test_main_list(capsys):
    assert main(["--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(DERIVATIONS)


def test_main_runs_one(capsys):
    assert main(["lemma_d3", "-q"]) == 0
    assert capsys.readouterr().out.strip().startswith("lemma_d3: all ")


def test_main_failure_exit_1(monkeypatch, capsys):
    def broken(out=None):
        st = Steps("broken", "always fails", out)
        st.step("claim 1 = 2")
        st.equal(1, 2, "one is two")
    monkeypatch.setitem(derive.DERIVATIONS, "lemma_d3", broken)
    assert main(["lemma_d3"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "one is two FAILED" in err[0]


@pytest.mark.parametrize("argv", [["nonsense"], ["all", "nonsense"], []])
def test_main_unknown_or_missing_name_exit_2(argv, capsys):
    assert main(argv) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_cli_all_exits_0():
    proc = subprocess.run([sys.executable, "-m", "theory.derive", "all", "-q"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for name in DERIVATIONS:
        assert f"{name}: all " in proc.stdout


def test_cli_bad_name_exits_2():
    proc = subprocess.run([sys.executable, "-m", "theory.derive", "no_such_derivation"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "no_such_derivation" in proc.stderr
