"""Tests of the ``flows`` command line (numerics.cli): every command and its JSON fields
(docs/reference.md), and one-line errors with the right exit status on bad input.

Most cases call ``main(argv)`` in-process (fast); a few run the installed console script in a
subprocess to check the real exit status and that no traceback reaches stderr."""
import json
import subprocess
import sys

import numpy as np
import pytest

from numerics.cli import COMMANDS, add_command, main


@pytest.fixture
def files(tmp_path):
    def write(name, content):
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)
    return {
        "orth": write("orth.json", {"kind": "orthogonal", "points": [[0, 0, 0], [2, 0, 0],
                                                                      [0, 3, 0]]}),
        "obtuse": write("obtuse.json", {"kind": "obtuse", "points": [[0, 0], [2, 0], [-1, 1.5]]}),
        "tri": write("tri.json", {"kind": "equilateral",
                                  "points": [[1, 0], [-0.5, 0.8660254037844386],
                                             [-0.5, -0.8660254037844386]]}),
        "bad_json": write("bad.json", "{kind: orthogonal"),
        "wrong_kind": write("kind.json", {"kind": "hexagon", "points": [[0, 0], [1, 0]]}),
        "ragged": write("ragged.json", {"kind": "orthogonal", "points": [[0, 0], [1, 0, 0]]}),
        "not_orth": write("notorth.json", {"kind": "orthogonal", "points": [[0, 0], [1, 0],
                                                                            [1, 1]]}),
        "nan": write("nan.json", '{"kind": "orthogonal", "points": [[0, 0], [NaN, 0]]}'),
        "no_points": write("nopts.json", {"kind": "orthogonal"}),
        "bad_string": write("badstr.json", {"kind": "obtuse", "points": [[0, 0], ["1/0", 0],
                                                                          ["-2/5", "nine"]]}),
        "code_string": write("code.json", {"kind": "orthogonal", "points": [
            [0, 0], ["__import__('os').system('false')", 0], [0, 1]]}),
        "missing": str(tmp_path / "does_not_exist.json"),
    }


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


# -- classify ---------------------------------------------------------------------------------------
def test_classify_json(capsys, files):
    got = run_json(capsys, "classify", "--data", files["orth"], "--y=2,3,0", "--threshold", "1e-6",
                   "--norm", "l2")
    assert got["class"] == "virtual" and got["vertex_subset"] == [1, 2]
    got = run_json(capsys, "classify", "--data", files["orth"], "--y", "-0.0,0,0")
    assert got["class"] == "training" and got["vertex_subset"] == []
    assert got["threshold"] == pytest.approx(3e-6)  # default 1e-6 * max r_n
    got = run_json(capsys, "classify", "--data", files["orth"], "--y", "1,-0.0005,0",
                   "--threshold", "1e-3", "--norm", "linf")
    assert got["class"] == "boundary" and got["vertex_subset"] is None
    got = run_json(capsys, "classify", "--data", files["tri"], "--y", "0.25,0.4330127018922193")
    assert got["class"] == "boundary"


def test_negative_vector_forms(capsys, files):
    a = run_json(capsys, "classify", "--data", files["orth"], "--y=-0.2,0.7,0")
    b = run_json(capsys, "classify", "--data", files["orth"], "--y", "-0.2,0.7,0")
    assert a == b and a["class"] == "other" and a["distance"] == pytest.approx(0.2)


def test_text_output(capsys, files):
    code, out, _ = run(capsys, "classify", "--data", files["orth"], "--y", "2,0,0")
    assert code == 0 and "class: training" in out and "vertex_subset: [1]" in out


# -- threshold --------------------------------------------------------------------------------------
def test_threshold_json(capsys, files):
    got = run_json(capsys, "threshold", "--data", files["orth"], "--y0", "0.3,0.45,0.2",
                   "--sigma-max", "1.5", "--model", "exact")
    assert got["c0"] == pytest.approx(0.3) and got["valid"] is True
    got = run_json(capsys, "threshold", "--data", files["orth"], "--y0", "2.5,-1,0",
                   "--sigma-max", "1", "--model", "taylor")
    assert got["c0"] is None and "vertex" in got["reason"]
    got = run_json(capsys, "threshold", "--data", files["orth"], "--y0", "1,0.2,0",
                   "--sigma-max", "1", "--model", "taylor-fixed-kinks")
    assert got["c0"] is None and "midpoint" in got["reason"]


def test_threshold_confirm(capsys, files):
    got = run_json(capsys, "threshold", "--data", files["orth"], "--y0", "0.3,0.45,0.2",
                   "--sigma-max", "1.5", "--model", "taylor-fixed-kinks", "--confirm")
    assert got["c0_bisection"] == pytest.approx(got["c0"], abs=1e-9)


def test_threshold_confirm_obtuse_picks_ivp(capsys, files):
    """On obtuse data there is no closed-form probability flow: --confirm picks the ivp
    integrator by itself, as flows endpoint does (Thm B.3's c_0 = t_1/sigma_max here)."""
    got = run_json(capsys, "threshold", "--data", files["obtuse"], "--y0", "0.6,-0.2",
                   "--sigma-max", "1", "--confirm")
    assert got["method"] == "ivp" and got["c0"] == pytest.approx(0.6)
    # the ivp bisection decides "on a vertex" within VERTEX_TOL["ivp"] * max r_n = 2e-7, which
    # moves c_0 by at most that much over sigma_max = 1
    assert got["c0_bisection"] == pytest.approx(got["c0"], abs=1e-6)


def test_exact_method_on_obtuse_data_hints_in_cli_words(capsys, files):
    code, _, err = run(capsys, "threshold", "--data", files["obtuse"], "--y0", "0.6,-0.2",
                       "--sigma-max", "1", "--confirm", "--method", "exact")
    assert code == 1 and err.count("\n") == 1
    assert "--method ivp" in err and "method='ivp'" not in err


# -- endpoint ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["exact", "ivp"])
def test_endpoint_score_flow(capsys, files, method):
    """Thm 4.3 (i): the score flow ends at the closest vertex."""
    got = run_json(capsys, "endpoint", "--data", files["orth"], "--y0=1.2,-0.4,0.3",
                   "--flow", "score", "--rho", "0.2", "--method", method)
    np.testing.assert_allclose(got["endpoint"], [2, 0, 0], atol=1e-8)
    assert got["class"] == "training" and got["vertex_subset"] == [1]


@pytest.mark.parametrize("model", ["exact", "taylor", "taylor-fixed-kinks"])
def test_endpoint_probability_flow_either_side_of_c0(capsys, files, model):
    base = ("endpoint", "--data", files["orth"], "--y0", "0.3,0.45,0.2", "--flow", "probability",
            "--sigma-max", "1.5", "--model", model)
    c0 = run_json(capsys, "threshold", "--data", files["orth"], "--y0", "0.3,0.45,0.2",
                  "--sigma-max", "1.5", "--model", model)["c0"]
    above = run_json(capsys, *base, "--c", str(1.05 * c0))
    assert above["class"] == "training" and above["vertex_subset"] == []
    # just below c0 the deciding coordinate t_2 stays inside while t_1 (smaller threshold) ends
    # on 0: a boundary point (Thm 4.4); far below both stay inside: relative interior
    below = run_json(capsys, *base, "--c", str(0.95 * c0))
    assert below["class"] == "boundary" and below["vertex_subset"] is None
    assert below["rho0"] == pytest.approx(0.95 * c0 * 1.5)
    assert below["endpoint"][0] == pytest.approx(0, abs=1e-12)
    assert run_json(capsys, *base, "--c", "0.1")["class"] == "other"


def test_endpoint_probability_flow_with_sigma_min(capsys, files):
    got = run_json(capsys, "endpoint", "--data", files["orth"], "--y0", "0.3,0.45,0.2",
                   "--flow", "probability", "--c", "0.1", "--sigma-max", "1.5",
                   "--sigma-min", "0.5", "--threshold", "1e-3", "--norm", "linf")
    assert got["sigma_min"] == 0.5 and got["norm"] == "linf"
    assert got["class"] == "other"  # stopped at sigma_min > 0: not yet at its limit


# -- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("key, fragment", [
    ("missing", "cannot read data file"),
    ("bad_json", "not valid JSON"),
    ("wrong_kind", "unknown dataset kind 'hexagon'"),
    ("ragged", "point 1 has 3 coordinates"),
    ("not_orth", "not orthogonal"),
    ("nan", "is nan"),
    ("no_points", "must be a JSON object"),
    ("bad_string", "point 1, coordinate 0: '1/0' divides by zero"),
    ("code_string", "point 1, coordinate 0: cannot read \"__import__"),
])
def test_bad_data_files_exit_1_with_one_line(capsys, files, key, fragment):
    code, out, err = run(capsys, "classify", "--data", files[key], "--y", "0,0")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("flows: error: ") and fragment.lower() in err.lower()


@pytest.mark.parametrize("argv, fragment", [
    (["classify", "--y", "1,2"], "--y has shape"),
    (["classify", "--y", "nan,0,0"], "non-finite"),
    (["classify", "--y", "0,0,0", "--threshold", "0"], "threshold must be positive"),
    (["endpoint", "--y0", "0.3,0.4,0", "--flow", "score", "--rho", "1.0"], "overlap"),
    (["endpoint", "--y0", "0.3,0.4,0", "--flow", "score", "--rho", "-0.1"], "positive"),
    (["endpoint", "--y0", "0.3,0.4,0", "--flow", "probability", "--c", "2", "--sigma-max", "1"],
     "c * sigma_max = 2 is outside the low-noise regime"),
    (["endpoint", "--y0", "0.3,0.4,0", "--flow", "probability", "--c", "0.1", "--sigma-max", "1",
      "--sigma-min", "2"], "--sigma-min must satisfy"),
    (["endpoint", "--y0", "0.3,0.4,0", "--flow", "probability", "--c", "inf", "--sigma-max", "1"],
     "--c is inf"),
    (["threshold", "--y0", "0.3,0.4,0", "--sigma-max", "0"], "--sigma-max must be positive"),
])
def test_bad_values_exit_1(capsys, files, argv, fragment):
    argv = argv[:1] + ["--data", files["orth"]] + argv[1:]
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert fragment in err


def test_model_errors_exit_1(capsys, files):
    code, _, err = run(capsys, "endpoint", "--data", files["tri"], "--y0", "0.1,0.1", "--flow",
                       "score", "--rho", "0.1", "--model", "taylor")
    assert code == 1 and "equilateral" in err
    code, _, err = run(capsys, "threshold", "--data", files["obtuse"], "--y0", "1,1.5",
                       "--sigma-max", "1")
    assert code == 1 and "Thm B.3" in err


@pytest.mark.parametrize("argv, fragment", [
    ([], "required: COMMAND"),
    (["bogus"], "invalid choice"),
    (["classify", "--y", "0,0,0"], "required: --data"),
    (["classify", "--data", "F", "--y", "a,b"], "comma-separated list of numbers"),
    (["endpoint", "--data", "F", "--y0", "0,0,0", "--flow", "score"], "requires --rho"),
    (["endpoint", "--data", "F", "--y0", "0,0,0", "--flow", "probability", "--c", "1"],
     "requires --sigma-max"),
    (["endpoint", "--data", "F", "--y0", "0,0,0", "--flow", "score", "--rho", "0.1", "--c", "1"],
     "--c does not apply"),
    (["endpoint", "--data", "F", "--y0", "0,0,0", "--flow", "probability", "--rho", "0.1"],
     "--rho does not apply"),
    (["classify", "--data", "F", "--y", "0,0", "--norm", "l1"], "invalid choice"),
])
def test_usage_errors_exit_2(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert fragment in err


def test_warning_is_one_line(capsys, files):
    """rho in (rho*, 3R/4) for the triangle: the closed form is used with a one-line warning."""
    code, out, err = run(capsys, "endpoint", "--data", files["tri"], "--y0", "0.1,0.05", "--flow",
                         "score", "--rho", "0.7")
    assert code == 0 and err.startswith("flows: warning: ") and err.count("\n") == 1


def test_add_command_registers_a_subcommand(capsys):
    add_command("echo-test", "test command", lambda p: p.add_argument("--x", type=float),
                lambda a: {"x": a.x})
    try:
        assert run_json(capsys, "echo-test", "--x", "2.5") == {"x": 2.5}
        with pytest.raises(ValueError, match="already registered"):
            add_command("echo-test", "again", lambda p: None, lambda a: {})
    finally:
        del COMMANDS["echo-test"]


# -- real processes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, status", [
    (["classify", "--data", "{missing}", "--y", "0,0,0"], 1),
    (["classify", "--data", "{bad_json}", "--y", "0,0,0"], 1),
    (["endpoint", "--data", "{orth}", "--y0", "0,0", "--flow", "score", "--rho", "0.1"], 1),
    (["endpoint", "--data", "{orth}", "--y0", "0,0,0", "--flow", "score"], 2),
])
def test_console_script_errors(files, argv, status):
    argv = [a.format(**files) for a in argv]
    proc = subprocess.run([sys.executable, "-m", "numerics.cli", *argv], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == status
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("flows: error: ")
    assert "Traceback" not in proc.stderr


def test_console_script_success(files):
    proc = subprocess.run([sys.executable, "-m", "numerics.cli", "classify", "--data", files["orth"],
                           "--y=-0.2,0.7,0", "--json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == ""
    assert json.loads(proc.stdout)["class"] == "other"


# -- trajectory -------------------------------------------------------------------------------------
@pytest.mark.parametrize("flow_args", [("--flow", "score", "--rho", "0.2"),
                                       ("--flow", "probability", "--c", "0.1", "--sigma-max", "1")])
def test_trajectory_draws_the_path_and_reports_the_endpoint(capsys, files, tmp_path, flow_args):
    fig = tmp_path / "figs" / "path.png"
    got = run_json(capsys, "trajectory", "--data", files["orth"], "--y0", "0.5,0.4,0.7",
                   *flow_args, "--out", str(fig), "--n-times", "50")
    same = run_json(capsys, "endpoint", "--data", files["orth"], "--y0", "0.5,0.4,0.7",
                    *flow_args)
    assert got["endpoint"] == same["endpoint"] and got["class"] == same["class"]
    assert fig.stat().st_size > 10_000 and got["figure"] == str(fig) and got["n_times"] == 50


def test_trajectory_path_line_ends_at_the_limit(capsys, files, tmp_path, monkeypatch):
    """The drawn line has n_times + 1 points (the limit appended) in the data's plane."""
    import matplotlib.axes
    seen = []
    original = matplotlib.axes.Axes.plot

    def spy(self, *a, **k):
        lines = original(self, *a, **k)
        if str(k.get("label", "")).startswith("score flow"):
            seen.append(np.column_stack(lines[0].get_data()))
        return lines
    monkeypatch.setattr(matplotlib.axes.Axes, "plot", spy)
    assert main(["trajectory", "--data", files["obtuse"], "--y0=-0.3,0.5", "--flow", "score",
                 "--rho", "0.1", "--out", str(tmp_path / "s.png"), "--n-times", "30"]) == 0
    (line,) = seen
    assert line.shape == (31, 2)
    np.testing.assert_allclose(line[0], [-0.3, 0.5])
    capsys.readouterr()
    end = run_json(capsys, "endpoint", "--data", files["obtuse"], "--y0=-0.3,0.5", "--flow",
                   "score", "--rho", "0.1")
    np.testing.assert_allclose(line[-1], end["endpoint"], atol=1e-12)
    assert not np.allclose(line[-2], line[0])  # the flow moved


@pytest.mark.parametrize("extra,fragment", [(("--t-max", "-1"), "--t-max"),
                                            (("--n-times", "1"), "--n-times")])
def test_trajectory_bad_times_exit_1(capsys, files, tmp_path, extra, fragment):
    code, _, err = run(capsys, "trajectory", "--data", files["orth"], "--y0", "0.5,0.4,0.7",
                       "--flow", "score", "--rho", "0.2", "--out", str(tmp_path / "x.png"), *extra)
    assert code == 1 and err.count("\n") == 1 and fragment in err
