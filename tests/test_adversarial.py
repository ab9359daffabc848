"""Adversarial inputs: the one-line error contract of the command lines and the documented
exception types of the Python API (docs/numerics.md "Errors").

CLI contract: a bad input gives exit status 1 (bad input) or 2 (usage), exactly one stderr line
``flows: error: ...`` (``theory-derive: error: ...``), and never a traceback -- an exception
escaping ``main`` fails these tests.  API contract: a subclass of
:class:`theory.errors.InputError` (a ``ValueError``) with a one-line message naming the argument.
Most cases run ``main(argv)`` in-process; two run a subprocess to see the real stderr.
"""
import contextlib
import io
import json
import math
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from numerics import cli
from numerics.experiments import _runtime
from numerics.geometry import _vector_norm
from theory.datasets import from_json, make_dataset
from theory.denoisers import min_cost_denoiser
from theory.errors import (ArgumentTypeError, InputError, MissingExtraError, NonFiniteError,
                           NotRepresentableError, OutOfRangeError, ShapeError, UnknownChoiceError)

ORTH = {"kind": "orthogonal", "points": [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]}
TRI = {"kind": "equilateral", "points": [[1, 0], [-0.5, 0.8660254037844386],
                                         [-0.5, -0.8660254037844386]]}
OBTUSE = {"kind": "obtuse", "points": [[0, 0], [2, 0], [-1, 2]]}
#: Largest finite float64.
FMAX = np.finfo(float).max


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("adversarial")
    for name, obj in (("orth", ORTH), ("tri", TRI), ("obtuse", OBTUSE)):
        (d / f"{name}.json").write_text(json.dumps(obj))
    return d


def run_flows(argv):
    """``flows argv`` in-process: (exit status, stdout, stderr lines)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue().strip().splitlines()


def assert_one_line_error(rc, err, codes=(1,), prog="flows"):
    assert rc in codes, (rc, err)
    assert len(err) == 1, err
    assert err[0].startswith(f"{prog}: error: "), err
    assert "Traceback" not in err[0]


def assert_success_or_one_line(rc, out, err):
    """Either a result (exit 0, stdout one JSON object) or the one-line error contract."""
    if rc == 0:
        json.loads(out)
    else:
        assert_one_line_error(rc, err)


# -- data files ------------------------------------------------------------------------------------
MALFORMED_FILES = {
    "ragged": json.dumps({"kind": "orthogonal", "points": [[0, 0], [1], [0, 1]]}),
    "null coordinate": json.dumps({"kind": "orthogonal", "points": [[0, None], [1, 0], [0, 1]]}),
    "list as kind": json.dumps({"kind": ["orthogonal"], "points": [[0, 0], [1, 0], [0, 1]]}),
    "object as kind": json.dumps({"kind": {"a": 1}, "points": [[0, 0], [1, 0], [0, 1]]}),
    "null kind": json.dumps({"kind": None, "points": [[0, 0], [1, 0], [0, 1]]}),
    "nested brackets": "[" * 100_000 + "]" * 100_000,
    "nested points": '{"kind": "orthogonal", "points": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "list as coordinate": json.dumps({"kind": "orthogonal", "points": [[[0], [0]], [[1], [0]]]}),
    "points an object": json.dumps({"kind": "orthogonal", "points": {"a": 1}}),
    "points a string": json.dumps({"kind": "orthogonal", "points": "abc"}),
    "flat points": json.dumps({"kind": "orthogonal", "points": [0, 1, 2]}),
    "no points": json.dumps({"kind": "orthogonal", "points": []}),
    # a string is an exact number ("1", "1/2", "sqrt(3)/2"); anything else is one line
    "string coordinate": json.dumps({"kind": "orthogonal", "points": [[0, 0], ["one", 0], [0, 1]]}),
    "boolean coordinate": json.dumps({"kind": "orthogonal", "points": [[0, 0], [True, 0], [0, 1]]}),
    "NaN coordinate": '{"kind": "orthogonal", "points": [[0, 0], [NaN, 0], [0, 1]]}',
    "Infinity coordinate": '{"kind": "orthogonal", "points": [[0, 0], [Infinity, 0], [0, 1]]}',
    "not an object": "[1, 2]",
    "unknown key": json.dumps({"kind": "orthogonal", "points": [[0, 0], [1, 0], [0, 1]],
                               "bogus": 1}),
    "option of another kind": json.dumps({"kind": "orthogonal", "allow_right_angles": True,
                                          "points": [[0, 0], [1, 0], [0, 1]]}),
    "string as a boolean": json.dumps({"kind": "obtuse", "allow_right_angles": "false",
                                       "points": [[0, 0], [1, 0], [0, 1]]}),
    "number as a boolean": json.dumps({"kind": "obtuse", "allow_right_angles": 0,
                                       "points": [[0, 0], [1, 0], [0, 1]]}),
    "unknown kind": json.dumps({"kind": "simplex", "points": [[0, 0], [1, 0], [0, 1]]}),
    "empty file": "",
    "not JSON": "{kind: orthogonal",
}


@pytest.mark.parametrize("content", MALFORMED_FILES.values(), ids=MALFORMED_FILES.keys())
def test_malformed_data_file_is_one_line(tmp_path, content):
    path = tmp_path / "data.json"
    path.write_text(content)
    rc, _, err = run_flows(["classify", "--data", path, "--y=0.1,0.2", "--json"])
    assert_one_line_error(rc, err)
    assert "data file" in err[0]


def test_non_utf8_data_file(tmp_path):
    path = tmp_path / "data.json"
    path.write_bytes(b"\xff\xfe\x00")
    rc, _, err = run_flows(["classify", "--data", path, "--y=0.1,0.2"])
    assert_one_line_error(rc, err)


SCALE_FILES = {  # valid or not depending on the dataset's numeric range: never a traceback
    "1e-308": '{"kind": "orthogonal", "points": [[0, 0], [1e-308, 0], [0, 1e-308]]}',
    "1e155": '{"kind": "orthogonal", "points": [[0, 0], [1e155, 0], [0, 1e155]]}',
    "10**400": '{"kind": "orthogonal", "points": [[0, 0], [1%s, 0], [0, 1]]}' % ("0" * 400),
    "triangle 1e200": json.dumps({"kind": "equilateral", "points": [
        [1e200, 0], [-0.5e200, 0.8660254037844386e200], [-0.5e200, -0.8660254037844386e200]]}),
}


@pytest.mark.parametrize("content", SCALE_FILES.values(), ids=SCALE_FILES.keys())
def test_extreme_scale_data_file(tmp_path, content):
    path = tmp_path / "data.json"
    path.write_text(content)
    rc, out, err = run_flows(["classify", "--data", path, "--y=0.1,0.2", "--json"])
    assert_success_or_one_line(rc, out, err)


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=4))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=12)
data_files = st.one_of(
    json_values,
    st.fixed_dictionaries({"kind": st.one_of(st.sampled_from(["orthogonal", "obtuse",
                                                             "equilateral"]), json_values),
                           "points": json_values}),
    st.fixed_dictionaries({"kind": st.sampled_from(["orthogonal", "obtuse", "equilateral"]),
                           "points": st.lists(st.lists(json_scalars, min_size=1, max_size=3),
                                              min_size=1, max_size=4)}),
)


@given(data=data_files)
def test_random_json_data_files(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("h") / "data.json"
    path.write_text(json.dumps(data))
    rc, out, err = run_flows(["classify", "--data", path, "--y=0.1,0.2", "--json"])
    assert_success_or_one_line(rc, out, err)


# -- extreme magnitudes and --json ---------------------------------------------------------------------
def test_json_distance_near_float64_max_is_computed(data_dir):
    rc, out, err = run_flows(["classify", "--data", data_dir / "orth.json",
                                      "--y=-1e308,1e308,1e308", "--json"])
    assert rc == 0, err
    result = json.loads(out)
    # scaled norm: |(-1e308 - 0, 1e308, 1e308)| = sqrt(3) 1e308 < FMAX, to float64 rounding
    assert result["distance"] == pytest.approx(math.sqrt(3) * 1e308, rel=1e-15)


def test_json_distance_beyond_float64_is_one_line(data_dir):
    argv = ["classify", "--data", data_dir / "orth.json", "--y=1.7e308,1.7e308,1.7e308"]
    rc, _, err = run_flows(argv + ["--json"])
    assert_one_line_error(rc, err)
    assert "distance" in err[0] and "not representable" in err[0]
    rc, out, err = run_flows(argv)  # text output says inf, with a warning line
    assert rc == 0 and "distance: inf" in out
    assert any(line.startswith("flows: warning:") and "overflows" in line for line in err)


magnitudes = st.builds(lambda m, e, s: s * m * 10.0 ** e, st.floats(1, 9.99),
                       st.integers(-320, 307), st.sampled_from([-1.0, 1.0]))


@given(y=st.lists(magnitudes, min_size=2, max_size=2), norm=st.sampled_from(["l2", "linf"]),
       name=st.sampled_from(["tri", "obtuse"]))
def test_extreme_magnitudes_classify(data_dir, y, norm, name):
    rc, out, err = run_flows(["classify", "--data", data_dir / f"{name}.json",
                                      f"--y={y[0]!r},{y[1]!r}", "--norm", norm, "--json"])
    assert_success_or_one_line(rc, out, err)
    if rc == 0:
        d = json.loads(out)["distance"]
        # within |y| + the data's extent, plus float64 rounding of the distance (~1e-16 |y|: at
        # |y| = 1.4e22 one ulp is 2e6, far above the extent 10)
        assert 0 <= d <= math.hypot(*y) * (1 + 1e-12) + 10


@pytest.mark.parametrize("name,y0,flow,method", [
    ("obtuse", "1e308,1e308", "score", "ivp"), ("obtuse", "1e308,1e308", "probability", "ivp"),
    ("tri", "1e308,-1e308", "score", "ivp"), ("tri", "0,1e-320", "probability", "ivp"),
    ("orth", "-1.7e308,1.7e308,0", "score", "exact"), ("orth", "1e-320,0.5,0.5", "score", "ivp"),
])
def test_extreme_starts_endpoint(data_dir, name, y0, flow, method):
    params = ["--rho", "0.1"] if flow == "score" else ["--c", "0.1", "--sigma-max", "1"]
    rc, out, err = run_flows(["endpoint", "--data", data_dir / f"{name}.json", f"--y0={y0}",
                              "--flow", flow, "--method", method, *params, "--json"])
    assert_success_or_one_line(rc, out, err)


@given(V=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=5), k=st.integers(-1000, 1000))
def test_scaled_norm_is_homogeneous(V, k):
    V = np.array(V)
    scaled = V * 2.0 ** k  # exact scaling by a power of two (when representable)
    if not np.all(np.isfinite(scaled)) or np.any((V != 0) & (scaled == 0)):
        return
    expect = np.linalg.norm(V) * 2.0 ** k
    if not math.isfinite(expect) or (expect == 0 and np.any(V != 0)):
        return
    # 4 ulp: the scaled sum of squares rounds differently from numpy's plain one
    assert _vector_norm(scaled, "l2") == pytest.approx(expect, rel=4 * np.finfo(float).eps, abs=0)


@given(offset=st.floats(-30, -8), n=st.integers(0, 2))
def test_near_degenerate_points_classify_as_the_vertex(offset, n):
    """A point ``10**offset`` (relative) from a vertex is that vertex at the default threshold
    1e-6 max r (down to offsets at float64's resolution, where the sum rounds to the vertex)."""
    from numerics.classify import classify
    ds = make_dataset("orthogonal", ORTH["points"])
    y = np.array(ORTH["points"][n + 1], dtype=float) + 10.0 ** offset
    cls = classify(ds, y)[0]
    assert cls.cls == "training" and cls.vertex_subset == (n + 1,)


# -- CLI options ---------------------------------------------------------------------------------
BAD_OPTIONS = [
    (["classify", "--data", "{orth}", "--y=nan,0,0"], 1, "--y"),
    (["classify", "--data", "{orth}", "--y=0,0"], 1, "--y"),
    (["classify", "--data", "{orth}", "--y=0,0,0", "--threshold", "inf"], 1, "--threshold"),
    (["classify", "--data", "{orth}", "--y=0,0,0", "--threshold", "-1"], 1, "--threshold"),
    (["endpoint", "--data", "{orth}", "--y0=0.3,0.4,0.2", "--flow", "score", "--rho", "1e-320"],
     1, "--rho"),
    (["endpoint", "--data", "{orth}", "--y0=0.3,0.4,0.2", "--flow", "probability", "--c", "1e-300",
      "--sigma-max", "1e-10"], 1, "c * sigma_max"),
    (["endpoint", "--data", "{orth}", "--y0=0.3,0.4,0.2", "--flow", "probability", "--c", "0.1",
      "--sigma-max", "1", "--sigma-min", "2"], 1, "--sigma-min"),
    (["threshold", "--data", "{orth}", "--y0=0.3,0.4", "--sigma-max", "1"], 1, "--y0"),
    (["threshold", "--data", "{orth}", "--y0=0.3,0.4,0.2", "--sigma-max", "nan"], 1, "--sigma-max"),
    (["classify", "--data", "{orth}", "--y=a,b,c"], 2, "--y"),
    (["classify", "--data", "{orth}"], 2, "--y"),
    (["bogus"], 2, "bogus"),
    (["experiment", "endpoints", "--out", "{out}", "--seed=-1"], 1, "--seed"),
    (["experiment", "endpoints", "--out", "{out}", "--workers", "0"], 1, "--workers"),
    (["experiment", "endpoints", "--out", "/dev/null/x", "--workers", "1"], 1, "--out"),
    (["experiment", "endpoints", "--out", "{out}", "--scheduler", "bogus"], 1, "scheduler"),
]


@pytest.mark.parametrize("argv,code,names", BAD_OPTIONS, ids=[" ".join(a[:1] + a[3:5])
                                                              for a, _, _ in BAD_OPTIONS])
def test_bad_options_are_one_line(data_dir, argv, code, names):
    argv = [a.format(orth=data_dir / "orth.json", out=data_dir / "out") for a in argv]
    rc, _, err = run_flows(argv)
    assert_one_line_error(rc, err, codes=(code,))
    assert names in err[0]


def test_refused_scheduler_fails_fast(data_dir):
    start = time.perf_counter()
    rc, _, err = run_flows(["experiment", "endpoints", "--out", data_dir / "out",
                                    "--quick", "--scheduler", "tcp://127.0.0.1:1", "--no-progress"])
    assert time.perf_counter() - start < _runtime.SCHEDULER_TIMEOUT + 5
    assert_one_line_error(rc, err)
    assert "tcp://127.0.0.1:1" in err[0]


def test_scheduler_without_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as if missing
    with pytest.raises(MissingExtraError, match=r"the 'dask' extra: pip install -e \"\.\[dask\]\""):
        _runtime.parallel_map(abs, [1, 2], scheduler="tcp://127.0.0.1:8786", progress=False)


def test_workers_capped_at_cpu_count():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _runtime.check_workers(100_000) == _runtime.default_workers()
    assert len(caught) == 1 and "CPU cores" in str(caught[0].message)
    with pytest.raises(ArgumentTypeError):
        _runtime.check_workers(2.5)


# -- theory-derive -------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["--list", "bogus"], [], ["no_such"], ["--bogus"]])
def test_theory_derive_usage_errors(capsys, argv):
    from theory.derive.__main__ import main
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert_one_line_error(2, err, codes=(2,), prog="theory-derive")


# -- subprocess: the real stderr -----------------------------------------------------------------
def test_subprocess_nested_file_and_derive_list(tmp_path):
    path = tmp_path / "nested.json"
    path.write_text(MALFORMED_FILES["nested points"])
    cases = [([sys.executable, "-m", "numerics.cli", "classify", "--data", str(path),
               "--y=0.1,0.2"], 1, "flows"),
             ([sys.executable, "-m", "theory.derive", "--list", "bogus"], 2, "theory-derive")]
    for cmd, code, prog in cases:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert proc.returncode == code, proc.stderr
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: ")


# -- more command lines: every subcommand, every numeric option -------------------------------
#: Option values of every kind: not numbers, non-finite, out of range, beyond float64, subnormal.
VALUES = ["nan", "inf", "-inf", "-1", "0", "1e-320", "1e308", "1e400", "abc", "", "1_000",
          "0x10", "0.1"]


@given(option=st.sampled_from(["--rho", "--c", "--sigma-max", "--sigma-min", "--threshold"]),
       value=st.sampled_from(VALUES), flow=st.sampled_from(["score", "probability"]),
       name=st.sampled_from(["orth", "tri", "obtuse"]), method=st.sampled_from(["exact", "ivp"]))
def test_endpoint_numeric_options(data_dir, option, value, flow, name, method):
    y0 = "0.3,0.45,0.2" if name == "orth" else "0.1,0.2"
    base = {"--rho": "0.1"} if flow == "score" else {"--c": "0.1", "--sigma-max": "1"}
    base[option] = value
    argv = ["endpoint", "--data", data_dir / f"{name}.json", f"--y0={y0}", "--flow", flow,
            "--method", method] + [x for kv in base.items() for x in kv] + ["--json"]
    rc, out, err = run_flows(argv)
    if rc == 2:  # argparse: not a number
        assert_one_line_error(rc, err, codes=(2,))
    else:
        assert_success_or_one_line(rc, out, err)


BAD_VECTORS = ["", ",", "1,,2", "1,2,3,4,5", "nan,0,0", "1e400,0,0", "inf,0,0", "a,b,c", "0x1,0,0"]


@pytest.mark.parametrize("command", ["classify --y", "endpoint --y0", "threshold --y0"])
@pytest.mark.parametrize("vector", BAD_VECTORS)
def test_bad_vectors_are_one_line(data_dir, command, vector):
    sub, opt = command.split()
    extra = {"classify": [], "endpoint": ["--flow", "score", "--rho", "0.1"],
             "threshold": ["--sigma-max", "1"]}[sub]
    rc, _, err = run_flows([sub, "--data", data_dir / "orth.json", f"{opt}={vector}", *extra])
    assert_one_line_error(rc, err, codes=(1, 2))
    assert opt in err[0] or "y" in err[0]


@pytest.mark.parametrize("argv,names", [
    (["endpoint", "--data", "{tri}", "--y0=0,1", "--flow", "probability", "--c", "0.1",
      "--sigma-max", "1", "--method", "exact"], "ivp"),                   # no exact integrator
    (["endpoint", "--data", "{tri}", "--y0=0,1", "--flow", "score", "--rho", "0.1",
      "--model", "taylor"], "taylor"),                                     # model not defined
    (["endpoint", "--data", "{orth}", "--y0=0.3,0.45,0.2", "--flow", "score", "--rho", "0.5"],
     "rho"),                                                               # balls overlap
    (["threshold", "--data", "{tri}", "--y0=0,1", "--sigma-max", "1"], "equilateral"),
    (["endpoint", "--data", "{orth}", "--y0=0.3,0.45,0.2", "--flow", "score",
      "--denoiser", "trained", "--net", "/nonexistent.npz", "--sigma", "0.1"], "nonexistent"),
    (["trajectory", "--data", "{orth}", "--y0=0.3,0.45,0.2", "--flow", "score", "--rho", "0.1",
      "--out", "/dev/null/x.png"], "--out"),
    (["trajectory", "--data", "{orth}", "--y0=0.3,0.45,0.2", "--flow", "score", "--rho", "0.1",
      "--out", "{out}/t.png", "--n-times", "-5"], "--n-times"),
    (["compare", "--net", "/nonexistent.npz", "--data", "{orth}"], "nonexistent"),
    (["train", "--data", "{orth}", "--rho", "nan", "--out", "{out}/n.npz"], "--rho"),
    (["train", "--data", "{orth}", "--rho", "0.1", "--width", "-3", "--out", "{out}/n.npz"],
     "--width"),
])
def test_more_bad_commands_are_one_line(data_dir, argv, names):
    argv = [a.format(orth=data_dir / "orth.json", tri=data_dir / "tri.json", out=data_dir)
            for a in argv]
    rc, _, err = run_flows(argv)
    assert_one_line_error(rc, err, codes=(1, 2))
    assert names.lstrip("-") in err[0]  # the option, or the API argument it sets


@pytest.mark.parametrize("argv,code,names", [
    (["endpoints", "--N", "0"], 2, "--N"), (["endpoints", "--N", "100000000"], 2, "--N"),
    (["endpoints", "--n-points", "0"], 2, "--n-points"),
    (["endpoints", "--sigma-max", "nan"], 2, "--sigma-max"),
    (["endpoints", "--c", "1e400"], 2, "--c"),
    (["endpoints", "--c-sweep", "1,nan"], 2, "--c-sweep"),
    (["endpoints", "--N", "20000"], 1, "N = 20000"),
    (["score-smoothing", "--M", "1"], 1, "M must be at least 2"),
    (["model-comparison", "--M", "1"], 1, "M must be at least 2"),
    (["early-stopping-map", "--n-grid", "1"], 1, "n_grid"),
    (["taylor-vs-exact", "--tau-max", "0"], 2, "--tau-max"),
])
def test_experiment_parameters_are_one_line(data_dir, argv, code, names):
    rc, _, err = run_flows(["experiment", *argv, "--out", data_dir / "exp", "--quick",
                            "--workers", "1", "--no-progress"])
    assert_one_line_error(rc, err, codes=(code,))
    assert names in err[0]


def run_proofs_check(argv):
    from proofs_check.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse usage errors
            rc = exc.code
    return rc, out.getvalue(), err.getvalue().strip().splitlines()


@pytest.mark.parametrize("argv,names", [
    (["run", "--examples", "0"], "--examples"), (["run", "--examples", "-1"], "--examples"),
    (["run", "--examples", "abc"], "--examples"), (["run", "bogus-id"], "bogus-id"),
    (["run", "--time-budget", "0", "prop-4.1"], "--time-budget"),
    (["run", "--time-budget", "nan", "prop-4.1"], "--time-budget"),
    (["run", "--time-budget", "-1", "prop-4.1"], "--time-budget"),
    (["run", "--profile", "bogus"], "--profile"), (["run", "--file", "/nonexistent.py"], "--file"),
    (["run", "prop-4.1", "--json", "/dev/null/x.json"], "--json"),
    (["explain", "bogus"], "bogus"), (["explain"], "id"), (["bogus"], "bogus"),
])
def test_proofs_check_usage_errors_are_one_line(argv, names):
    rc, _, err = run_proofs_check(argv)
    assert_one_line_error(rc, err, codes=(1, 2), prog="proofs-check")
    assert names in err[0]


# -- dataset validation through the API: near-degenerate and shifted geometry ---------------------
@given(shift=st.one_of(st.just(0.0), st.floats(-1e15, 1e15)), exponent=st.integers(-60, 60),
       gap=st.one_of(st.just(0.0), st.floats(1e-18, 1e-6)))
def test_near_coinciding_points(shift, exponent, gap):
    """Points ``gap`` (relative to the spread) apart: a DuplicatePointError exactly when the
    difference is within GEOMETRY_RTOL of the spread, wherever the data sit."""
    from theory.datasets import GEOMETRY_RTOL
    from theory.errors import DuplicatePointError
    s = 2.0 ** exponent
    pts = np.array([[0.0, 0.0], [s, 0.0], [s, s * gap]]) + shift
    spread = max(np.hypot(*(pts[1] - pts[0])), np.hypot(*(pts[2] - pts[0])))
    close = np.hypot(*(pts[2] - pts[1])) <= GEOMETRY_RTOL * spread
    try:
        make_dataset("general", pts.tolist())
    except DuplicatePointError:
        assert close
    else:
        assert not close


@given(cos=st.one_of(st.floats(-2e-9, 2e-9), st.sampled_from([0.0, 1e-9, -1e-9, 1.1e-9])),
       kind=st.sampled_from(["orthogonal", "obtuse"]))
def test_near_right_angles(cos, kind):
    """Offsets at angle arccos(cos): orthogonal within GEOMETRY_RTOL, obtuse below -GEOMETRY_RTOL
    -- else the kind's own error, never another."""
    from theory.datasets import GEOMETRY_RTOL
    from theory.errors import NotObtuseError, NotOrthogonalError
    pts = [[0.0, 0.0], [1.0, 0.0], [cos, math.sqrt(1 - cos * cos)]]
    ok = abs(cos) <= GEOMETRY_RTOL if kind == "orthogonal" else cos < -GEOMETRY_RTOL
    error = NotOrthogonalError if kind == "orthogonal" else NotObtuseError
    if ok:
        make_dataset(kind, pts)
    else:
        with pytest.raises(error):
            make_dataset(kind, pts)


# -- Python API ----------------------------------------------------------------------------------
def _api_cases():
    from numerics import flows, mmse, schedules
    from numerics import threshold as th
    from numerics.classify import classify
    from numerics.geometry import distance_to_hyperbox, vertex_points
    orth = make_dataset("orthogonal", ORTH["points"])
    tri = make_dataset("equilateral", TRI["points"])
    y = [0.3, 0.45, 0.2]
    return {
        "min_cost_denoiser rho=[0.1]": (lambda: min_cost_denoiser(orth, [0.1]), ArgumentTypeError),
        "min_cost_denoiser rho=None": (lambda: min_cost_denoiser(orth, None), ArgumentTypeError),
        "min_cost_denoiser rho complex": (lambda: min_cost_denoiser(orth, 0.1 + 1j),
                                          ArgumentTypeError),
        "min_cost_denoiser float32 NaN": (lambda: min_cost_denoiser(orth, np.float32("nan")),
                                          NonFiniteError),
        "min_cost_denoiser rho<0": (lambda: min_cost_denoiser(orth, -0.1), OutOfRangeError),
        "min_cost_denoiser dataset list": (lambda: min_cost_denoiser([[0, 0], [1, 0]], 0.1),
                                           ArgumentTypeError),
        "min_cost_denoiser model list": (lambda: min_cost_denoiser(orth, 0.1, ["exact"]),
                                         UnknownChoiceError),
        "score_flow times=[]": (lambda: flows.score_flow(orth, y, 0.1, times=[]), ShapeError),
        "score_flow atol='x'": (lambda: flows.score_flow(orth, y, 0.1, atol="x"),
                                ArgumentTypeError),
        "score_flow rtol=0": (lambda: flows.score_flow(orth, y, 0.1, rtol=0, method="ivp"),
                              OutOfRangeError),
        "score_flow y0 ragged": (lambda: flows.score_flow(orth, [[0, 1], [1]], 0.1), ShapeError),
        "score_flow y0 None entry": (lambda: flows.score_flow(orth, [None, 0, 0], 0.1),
                                     ArgumentTypeError),
        "score_flow y0 10**400": (lambda: flows.score_flow(orth, [10**400, 0, 0], 0.1),
                                  NotRepresentableError),
        "score_flow y0 booleans": (lambda: flows.score_flow(orth, [True, False, True], 0.1),
                                   ArgumentTypeError),
        "score_flow rho subnormal": (lambda: flows.score_flow(orth, y, 1e-320),
                                     NotRepresentableError),
        "score_flow dataset None": (lambda: flows.score_flow(None, y, 0.1), ArgumentTypeError),
        "score_flow method list": (lambda: flows.score_flow(orth, y, 0.1, method=["ivp"]),
                                   UnknownChoiceError),
        "probability_flow c*sigma_max overflow": (
            lambda: flows.probability_flow(orth, y, c=1e200, sigma_max=1e200),
            NotRepresentableError),
        "probability_flow exact on a triangle": (
            lambda: flows.probability_flow(tri, [0, 0.5], c=0.1, sigma_max=1), UnknownChoiceError),
        "c0_bisection rtol=0": (lambda: th.c0_bisection(orth, y, 1.0, rtol=0), OutOfRangeError),
        "c0_bisection rtol=1e-300": (lambda: th.c0_bisection(orth, y, 1.0, rtol=1e-300),
                                     OutOfRangeError),
        "c0_bisection vertex_tol='x'": (lambda: th.c0_bisection(orth, y, 1.0, vertex_tol="x"),
                                        ArgumentTypeError),
        "c0_closed_form sigma_max None": (lambda: th.c0_closed_form(orth, y, None),
                                          ArgumentTypeError),
        "classify threshold 'x'": (lambda: classify(orth, [y], "x"), ArgumentTypeError),
        "classify norm 'l1'": (lambda: classify(orth, [y], norm="l1"), UnknownChoiceError),
        "vertex_points repeated index": (lambda: vertex_points(orth, [(1, 1)]), ShapeError),
        "vertex_points index 0": (lambda: vertex_points(orth, [(0,)]), OutOfRangeError),
        "distance_to_hyperbox triangle": (lambda: distance_to_hyperbox(tri, [[0, 0]]),
                                          ArgumentTypeError),
        "geometric_sigmas n=10**12": (lambda: schedules.geometric_sigmas(1, 0.1, 10**12),
                                      OutOfRangeError),
        "score_flow_iterations n_steps=10**12": (
            lambda: schedules.score_flow_iterations(lambda Y: Y, [0, 0], n_steps=10**12),
            OutOfRangeError),
        "edm_sigmas rho=0": (lambda: schedules.edm_sigmas(1, 0.1, 3, rho=0), OutOfRangeError),
        "euler_probability_flow denoiser None": (
            lambda: schedules.euler_probability_flow(None, [1, 0.5], [0, 0]), ArgumentTypeError),
        "mmse sigma complex": (lambda: mmse.mmse_denoise(orth, [y], 1j), ArgumentTypeError),
        "make_dataset kind list": (lambda: make_dataset(["orthogonal"], ORTH["points"]),
                                   UnknownChoiceError),
        "make_dataset unknown option": (lambda: make_dataset("orthogonal", ORTH["points"],
                                                             allow_right_angles=True),
                                        UnknownChoiceError),
        "obtuse allow_right_angles string": (
            lambda: make_dataset("obtuse", OBTUSE["points"], allow_right_angles="false"),
            ArgumentTypeError),
        "from_json unknown key": (lambda: from_json({**ORTH, "bogus": 1}), UnknownChoiceError),
        "from_json allow_right_angles string": (
            lambda: from_json({**OBTUSE, "allow_right_angles": "false"}), ArgumentTypeError),
        "points None": (lambda: make_dataset("orthogonal", None), ShapeError),
        "points a string": (lambda: make_dataset("orthogonal", "abc"), ShapeError),
        "coordinate None": (lambda: make_dataset("orthogonal", [[0, None], [1, 0]]), ShapeError),
        "coordinate a list": (lambda: make_dataset("obtuse", [[0, [0]], [1, 0]]), ShapeError),
        "coordinate complex": (lambda: make_dataset("orthogonal", [[0, 0], [1j, 0]]), ShapeError),
        "coordinate 10**400 in float data": (
            lambda: make_dataset("orthogonal", [[0.5, 0], [10**400, 0]]), NotRepresentableError),
        "vertex repeated index": (lambda: orth.vertex((1, 1)), ShapeError),
        "vertex index 0": (lambda: orth.vertex((0,)), OutOfRangeError),
        "vertex index a string": (lambda: orth.vertex(("1",)), ArgumentTypeError),
        "triangle vertex of two points": (lambda: tri.vertex([1, 2]), ShapeError),
        "score_flow_batch wrong dimension": (
            lambda: flows.score_flow_batch(orth, [[0.1, 0.2]], 0.1), ShapeError),
        "probability_flow times beyond s_end": (
            lambda: flows.probability_flow(orth, y, c=0.1, sigma_max=1.0, sigma_min=0.5,
                                           times=[0, 5]), OutOfRangeError),
        "c0_closed_form triangle": (lambda: th.c0_closed_form(tri, [0, 0.5], 1.0), InputError),
        "c0_closed_form sigma_max 1e308, c_0 subnormal": (
            lambda: th.c0_closed_form(orth, [1e-20, -1.0, 2.0], 1e300), NotRepresentableError),
        "min_cost_denoiser general data": (
            lambda: min_cost_denoiser(make_dataset("general", [[0, 0], [1, 1]]), 0.1),
            InputError),
    }


API_CASES = _api_cases()


@pytest.mark.parametrize("name", API_CASES)
def test_api_raises_documented_type(name):
    call, kind = API_CASES[name]
    with pytest.raises(kind) as info:
        call()
    assert isinstance(info.value, InputError) and isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


not_numbers = st.one_of(st.none(), st.text(max_size=5), st.booleans(),
                        st.complex_numbers(allow_nan=False).filter(lambda z: z.imag != 0),
                        st.lists(st.floats(0.01, 0.1), min_size=1, max_size=2),
                        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))


@given(value=not_numbers, which=st.sampled_from(["rho", "atol", "rtol", "threshold", "sigma",
                                                 "sigma_max", "c"]))
def test_api_wrong_types(value, which):
    assume(not (value is None and which == "atol"))  # None is atol's default (data-scaled)
    from numerics import flows, mmse, threshold as th
    from numerics.classify import classify
    orth = make_dataset("orthogonal", ORTH["points"])
    y = [0.3, 0.45, 0.2]
    calls = {"rho": lambda: flows.score_flow(orth, y, value),
             "atol": lambda: flows.score_flow(orth, y, 0.1, atol=value),
             "rtol": lambda: flows.score_flow(orth, y, 0.1, rtol=value),
             "threshold": lambda: classify(orth, [y], value),
             "sigma": lambda: mmse.mmse_denoise(orth, [y], value),
             "sigma_max": lambda: th.c0_closed_form(orth, y, value),
             "c": lambda: flows.probability_flow(orth, y, c=value, sigma_max=1.0)}
    with pytest.raises(ArgumentTypeError, match=which):
        calls[which]()


# -- Python API: any argument of any kind ----------------------------------------------------
#: Values of every kind an argument may receive by mistake.
WEIRD = [None, "x", "", [], [[1.0], [2.0, 3.0]], {}, True, 1j, float("nan"), float("inf"),
         -1.0, 0, 10 ** 400, 1e-320, np.float32("nan"), np.array([0.1, 0.2]), np.zeros((2, 2, 2)),
         [0.1, "a", 0.2], [None, 0.1, 0.2], (0.1,) * 7]


def _public_calls():
    """Cheap public functions, each with valid defaults (every argument replaceable)."""
    from numerics import flows, mmse, schedules
    from numerics import threshold as th
    from numerics.classify import classify
    from numerics.geometry import distance_to_boundary, distance_to_hyperbox, nearest_vertex
    orth = make_dataset("orthogonal", ORTH["points"])
    y = [0.3, 0.45, 0.2]
    return {
        "score_flow": (flows.score_flow, dict(dataset=orth, y0=y, rho=0.1)),
        "score_flow_batch": (flows.score_flow_batch, dict(dataset=orth, Y0=[y], rho=0.1)),
        "probability_flow": (flows.probability_flow, dict(dataset=orth, y0=y, c=0.1,
                                                          sigma_max=1.0)),
        "probability_flow_batch": (flows.probability_flow_batch,
                                   dict(dataset=orth, Y0=[y], c=0.1, sigma_max=1.0)),
        "classify": (classify, dict(dataset=orth, Y=[y])),
        "c0_closed_form": (th.c0_closed_form, dict(dataset=orth, y0=y, sigma_max=1.0)),
        "distance_to_hyperbox": (distance_to_hyperbox, dict(dataset=orth, Y=[y])),
        "distance_to_boundary": (distance_to_boundary, dict(dataset=orth, Y=[y])),
        "nearest_vertex": (nearest_vertex, dict(dataset=orth, Y=[y])),
        "min_cost_denoiser": (min_cost_denoiser, dict(dataset=orth, rho=0.1)),
        "make_dataset": (make_dataset, dict(kind="orthogonal", points=ORTH["points"])),
        "mmse_denoise": (mmse.mmse_denoise, dict(points=orth, Y=[y], sigma=0.1)),
        "geometric_sigmas": (schedules.geometric_sigmas, dict(sigma_max=1.0, sigma_min=0.1,
                                                              n=5)),
        "edm_sigmas": (schedules.edm_sigmas, dict(sigma_max=1.0, sigma_min=0.1, n=5)),
    }


PUBLIC_CALLS = _public_calls()


@given(name=st.sampled_from(sorted(PUBLIC_CALLS)), data=st.data())
def test_public_api_with_any_argument(name, data):
    """One argument of a public function replaced by a value of another kind: the call returns,
    or raises a documented :class:`~theory.errors.InputError` with a one-line message -- never
    another exception."""
    fn, kwargs = PUBLIC_CALLS[name]
    key = data.draw(st.sampled_from(sorted(kwargs)), label="argument")
    value = data.draw(st.sampled_from(WEIRD), label="value")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a NotMinimalWarning etc. is not the contract here
        try:
            fn(**{**kwargs, key: value})
        except InputError as exc:
            assert "\n" not in str(exc) and str(exc)
