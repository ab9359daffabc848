# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Checking a claim: state it, let it fail, correct it
#
# A walk-through for theorists. `proofs_check` turns a mathematical statement into an object it
# can test on thousands of generated instances (docs/math.md §5; the guide is
# `docs/conjectures.md`). We state a plausible claim about the score flow of the min-cost
# denoiser, watch Hypothesis find a counterexample and shrink it to a small one, correct the
# claim, and watch the correction pass. About 15 s in all.
#
# A **statement** (`proofs_check.registry.Statement`) has words (`statement`, `hypotheses`,
# `method`) and two functions:
#
# * `strategy()`: a Hypothesis strategy drawing **instances**: data, noise level, start;
# * `check(instance) -> Margin`: the **margin** of the claim on the instance, a number that is
#   `> 0` when the claim holds and, in units of the instance's size, says how close it came to
#   failing (`1`: far; `1e-9`: a billionth of the data scale).

# %%
import matplotlib.pyplot as plt
import numpy as np
from hypothesis import strategies as st

from numerics import plotting
from numerics.flows import score_flow
from numerics.geometry import distance_to_points, nearest_vertex
from proofs_check import cli, instances, runner, strategies
from proofs_check.registry import Margin, Statement
from theory.datasets import from_json

# %% [markdown]
# ## 1. The instances
#
# Orthogonal data from the project's strategies (`proofs_check.strategies`, the same ones the
# built-in statements use): one or two orthogonal offsets in `d = N` or `N + 1` dimensions,
# randomly rotated or exact. The noise radius `rho` is drawn in the low-noise regime
# `rho < min_n r_n / 2`, and the start from its coordinates `t_n = f_n r_n` along the offsets,
# with `f_n` in `[-1/2, 3/2]`: around and inside the hyperbox, plus a random component off the
# data's span. One hypothesis from the start: no `f_n` within `1e-6` of `1/2`. At `t_n = r_n/2`
# the ramp has a fixed point that holds the coordinate forever (section 2 of the lecture);
# the exact integrator decides the side of `r_n/2` exactly, so any gap would do, and `1e-6`
# keeps the escape time short.

# %%
MIDPLANE_GAP = 1e-6


@st.composite
def starts(draw):
    """Score-flow instances: orthogonal data, rho, a start with every |f_n - 1/2| >= 1e-6."""
    ds = draw(strategies.orthogonal_datasets(max_N=2, extra_dims=1))
    rho = draw(st.floats(0.05, 0.95)) * min(float(r) for r in ds.r) / 2
    f = [0.5 + draw(st.sampled_from((-1, 1))) * draw(st.floats(MIDPLANE_GAP, 1.0)) for _ in ds.r]
    y0 = draw(instances.point_from_coordinates(ds, [fn * float(r) for fn, r in zip(f, ds.r)]))
    return instances.Instance(ds, "exact", rho=rho, y0=y0)


print(starts().example().short())  # one instance, to see what is drawn

# %% [markdown]
# ## 2. A plausible claim: the flow memorizes
#
# *"The score flow of the min-cost denoiser ends at a training point."* The check integrates the
# flow exactly (`numerics.flows.score_flow`) and measures the endpoint's distance to the nearest
# training point. "At a training point" means within `AT_POINT_RTOL = 1e-9` of the data scale
# `max r_n` (the exact integrator is accurate to about `1e-14`), and the margin is the error
# over that tolerance, `1 - distance / (1e-9 scale)`: `1` for an exact hit, negative when the
# endpoint is farther away.

# %%
AT_POINT_RTOL = 1e-9


def check_ends_at_training_point(instance) -> Margin:
    ds = instance.dataset
    scale = max(float(r) for r in ds.r)
    end = score_flow(ds, instance.y0_array(), instance.rho).endpoint
    dist = float(distance_to_points(ds, end[None, :]).min())
    return Margin(1 - dist / (AT_POINT_RTOL * scale), scale=scale,
                  detail={"endpoint": end.tolist(), "distance": dist},
                  flows_command=instance.flows_command())


memorizes = Statement(
    id="my-score-flow-memorizes", title="The score flow ends at a training point",
    source="a conjecture", statement="For orthogonal data, rho in the low-noise regime and any "
    "start, the score flow of the min-cost denoiser converges to a training point.",
    hypotheses="orthogonal data, N <= 2, d <= N + 1; rho < min r_n / 2; t_n / r_n in "
               "[-1/2, 3/2], at least 1e-6 from 1/2",
    method="exact integrator; distance of the endpoint to the nearest training point",
    strategy=starts, check=check_ends_at_training_point)

result = runner.run_statement(memorizes, examples=40)
print(result.status, "after", result.examples, "examples")
print("shrunk counterexample:", result.counterexample["short"])
print("margin:", result.counterexample["margin"])
print("replay:", result.counterexample["flows_command"])
assert result.status == "fail"

# %% [markdown]
# Hypothesis found a start whose flow does not end at a training point and **shrank** it: few
# offsets, few dimensions, simple numbers. The margin is hugely negative: the endpoint is a
# whole data scale away from every training point. The replay line reproduces it with the
# `flows` command line. Let us look at it.

# %%
bad = result.counterexample["instance"]
ds = from_json(bad["data"])
path = score_flow(ds, np.array(bad["y0"]), bad["rho"], times=np.linspace(0, 60, 600))
end = path.endpoint
subset, _ = nearest_vertex(ds, end[None, :])
print("endpoint", np.round(end, 6), "= the hyperbox vertex with S =", subset[0])
assert len(subset[0]) >= 2  # a sum of at least two training points
ax = plotting.plot_trajectories(ds, path, labels=["the counterexample's flow"],
                                title="the counterexample: the flow ends at a virtual point")
plt.show()

# %% [markdown]
# The endpoint is a **hyperbox vertex** `x_0 + sum_{n in S} (x_n - x_0)` with `|S| >= 2`: a
# **virtual point**, a sum of training points, stable like them (Thm 4.2). The flow does not
# memorize; it ends at the vertex closest to its start (Thm 4.3 (i)).
#
# ## 3. The corrected claim (Thm 4.3 (i))
#
# *"The score flow ends at the hyperbox vertex closest to the start."* Same instances; the check
# compares the nearest vertex of the start with the endpoint (`numerics.geometry.nearest_vertex`:
# for orthogonal data, each coordinate rounded to `0` or `r_n`).

# %%
def check_ends_at_closest_vertex(instance) -> Margin:
    ds = instance.dataset
    scale = max(float(r) for r in ds.r)
    y0 = instance.y0_array()
    end = score_flow(ds, y0, instance.rho).endpoint
    (S0,), _ = nearest_vertex(ds, y0[None, :])
    (S1,), (dist,) = nearest_vertex(ds, end[None, :])
    if S1 != S0:  # another vertex: at least a whole offset away from the claimed one
        return Margin(-1.0, detail={"start_vertex": S0, "end_vertex": S1}, scale=scale,
                      flows_command=instance.flows_command())
    return Margin(1 - float(dist) / (AT_POINT_RTOL * scale), scale=scale,
                  detail={"vertex": S0, "distance": float(dist)},
                  flows_command=instance.flows_command())


closest_vertex = Statement(
    id="my-score-flow-closest-vertex", title="The score flow ends at the closest hyperbox vertex",
    source="Thm 4.3 (i), as a corrected conjecture", statement="For orthogonal data, rho in the "
    "low-noise regime and a start with no coordinate at r_n/2, the score flow converges to the "
    "hyperbox vertex closest to the start.",
    hypotheses=memorizes.hypotheses,
    method="exact integrator; nearest vertex of the start and of the endpoint",
    strategy=starts, check=check_ends_at_closest_vertex)

result = runner.run_statement(closest_vertex, examples=30)
print(result.status, "on", result.examples, "examples; worst relative margin",
      result.worst_margin)
assert result.status == "pass"

# %% [markdown]
# ## 4. The same from the command line
#
# Statements written in a file run like the built-in ones, with the report's table (its legend
# explains each column: the relative margin, `hp` for instances decided at 50 digits, `proved`
# for a symbolic proof). `examples/claims/` holds a second pair, about the probability flow:
# `false_claim.py` ("it always ends at a vertex") and `corrected_claim.py` (only when
# `c > c_0`, Thm 4.4). In a shell, from the repository's root:
#
#     proofs-check run --file examples/claims/false_claim.py \
#         --file examples/claims/corrected_claim.py
#
# Here we call the same entry point from Python (exit status 1: the false claim fails).

# %%
from pathlib import Path  # noqa: E402

# examples/claims from the repository's root or from notebooks/
CLAIMS = next(p for p in (Path("examples/claims"), Path("../examples/claims")) if p.is_dir())
status = cli.main(["run", "--file", str(CLAIMS / "false_claim.py"),
                   "--file", str(CLAIMS / "corrected_claim.py"), "--examples", "20"])
print("exit status", status)
assert status == 1

# %% [markdown]
# The built-in statements are listed by `proofs-check list` and explained by
# `proofs-check explain ID`; Thm 4.3 (i) is the report's `thm-4.3-i`, checked with kink-aware
# starts, three score models and a symbolic obligation:

# %%
status = cli.main(["explain", "thm-4.3-i"])
