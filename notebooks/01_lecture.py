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
# # When diffusion models memorize: a 10-minute lecture
#
# Zeno, Manor, Ongie, Weinberger, Michaeli, Soudry, *When Diffusion Models Memorize: Inductive
# Biases in Probability Flow of Minimum-Norm Shallow Neural Nets* (ICML 2025). The mathematics
# is restated in `docs/math.md`; the words are in `docs/glossary.md`.
#
# A diffusion model learns a **denoiser** `h(y)` that maps a noisy point back to the data; the
# **score** is `s(y) = (h(y) - y) / sigma^2` (Tweedie, eq. 10). The paper asks where sampling
# flows end when `h` is the *minimum-norm* shallow ReLU network that denoises the training set
# perfectly. For a few geometries that network has a closed form, so the flows can be followed
# exactly. The plan:
#
# 1. orthogonal data and the closed-form denoiser;
# 2. virtual points: stable points that are not training points;
# 3. score flow versus probability flow;
# 4. early stopping and its threshold `c_0`.
#
# Run the cells in order (about 15 s in all).

# %%
import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

from numerics import plotting
from numerics.classify import classify
from numerics.evaluate import compile_denoiser
from numerics.flows import probability_flow, probability_flow_batch, score_flow
from numerics.threshold import c0_closed_form
from theory import OrthogonalDataset, min_cost_denoiser

# %% [markdown]
# ## 1. Orthogonal data and the closed-form denoiser
#
# Three training points in the plane: the apex `x_0 = 0` and `x_1 = e_1`, `x_2 = e_2`. The
# offsets `x_n - x_0` are orthogonal, with lengths `r_n = 1`. The hyperbox they span is the unit
# square (docs/math.md §1). Exact coordinates keep the theory layer exact.

# %%
data = OrthogonalDataset([[0, 0], [1, 0], [0, 1]])
print(data, "offset lengths r_n:", data.r)

# %% [markdown]
# The denoiser is trained on noisy copies `x_n + noise` with noise in a ball of radius `rho` and
# must return `x_n` on the whole ball `B(x_n, rho)` (eq. 8). Among all shallow ReLU networks that
# do so, the one of smallest weight norm (the **min-cost interpolant**) has the closed form
# (eq. 17, docs/math.md §2)
#
# `h(y) = x_0 + sum_n u_n phi(u_n^T (y - x_0); r_n, rho)`,  `u_n = (x_n - x_0)/r_n`.
#
# Each coordinate `t_n = u_n^T (y - x_0)` goes through a three-piece ramp `phi`: flat at `0`
# up to the **kink** `rho`, flat at `r_n` beyond the kink `r_n - rho`, and a line of slope
# `r_n/(r_n - 2 rho) > 1` in between. The closed form holds in the **low-noise regime**
# `rho < min_n r_n / 2`.

# %%
rho = sp.Rational(1, 10)
h = min_cost_denoiser(data, rho)
assert h.interpolates()  # exact certificate: h(y) = x_n on every ball B(x_n, rho)
print("representation cost:", h.representation_cost(), "  low-noise regime: rho <", h.rho_max())

compiled = compile_denoiser(data, "exact")  # the same formula, compiled for NumPy once
t = np.linspace(-0.2, 1.2, 281)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
for r in (0.1, 0.25, 0.4):
    out = compiled.denoise(np.column_stack([t, np.zeros_like(t)]), r)[:, 0]
    axes[0].plot(t, out, label=f"rho = {r}")
axes[0].plot(t, t, ":", color="gray", label="identity")
axes[0].axvline(0.5, color="gray", lw=0.6)
axes[0].set(xlabel="t = u_1^T (y - x_0)", ylabel="h(y)_1",
            title="the ramp phi: flat near 0 and r, steep in between")
axes[0].legend(fontsize=8)
plotting.plot_score_field(data, 0.1, ax=axes[1], n_grid=21, geometry=True,
                          title="score of h_rho (rho = 0.1): ReLU boundaries and the balls")
fig.tight_layout()

# %% [markdown]
# The steep middle piece crosses the identity at `t = r/2`: a fixed point, but an unstable one
# (slope > 1). The dashed lines in the right panel are the ReLU boundaries (kinks); the red
# circles are the balls `B(x_n, rho)` on which `h = x_n`. The arrows (length `log |s|`) point
# into the corners of the square, and the corner `(1, 1)` (hollow diamond) attracts like the
# training points: section 2.

# %% [markdown]
# ## 2. Virtual points
#
# The stationary points of the score flow are the fixed points of `h`. Each coordinate is
# fixed at `0`, `r_n` or `r_n/2`; the first two are stable (the ramp is flat there). So every
# **hyperbox vertex** `x_0 + sum_{n in S} (x_n - x_0)` is a stable stationary point (Thm 4.2).
# The vertices with `|S| >= 2` are not training points: they are the **virtual points**. Here
# there is one, `x_1 + x_2 = (1, 1)`.

# %%
for S in [(), (1,), (2,), (1, 2)]:
    v = data.vertex(S)
    kind = "training point" if len(S) <= 1 else "virtual point"
    stable = h.jacobian(v) == sp.zeros(2, 2)  # score Jacobian -I/sigma^2: stable
    print(f"vertex S = {S!s:7} {list(v)}: h(v) = v: {h(v) == v}, stable: {stable} -> {kind}")

# %% [markdown]
# ## 3. Score flow versus probability flow
#
# The **score flow** follows the score at one fixed noise level, `dy/dtau = h_rho(y) - y`
# (eq. 14). The **probability flow** (the deterministic sampler) lowers the noise as it goes:
# `dy/ds = h_rho(s)(y) - y` with `rho(s) = c sigma_max e^{-s}` in log-noise time
# `s = ln(sigma_max / sigma)` (eq. 12); `c = rho / sigma` ties the denoiser's ball radius to the
# noise level `sigma`. Both are integrated exactly, coordinate by coordinate (docs/math.md §4).

# %%
starts = np.array([[0.62, 0.70], [0.30, 0.80], [0.45, 0.35], [0.85, 0.20], [0.15, 0.55],
                   [1.15, 0.65], [0.55, -0.15]])
tau = np.linspace(0, 40, 400)
s = np.linspace(0, 12, 400)
score_paths = [score_flow(data, y0, 0.1, times=tau) for y0 in starts]
prob_paths = [probability_flow(data, y0, c=0.25, sigma_max=1.0, times=s) for y0 in starts]

fig, axes = plt.subplots(1, 2, figsize=(11, 5))
plotting.plot_trajectories(data, score_paths, ax=axes[0], legend=False,
                           title="score flow (rho = 0.1): every path ends at a vertex")
plotting.plot_trajectories(data, prob_paths, ax=axes[1], legend=False,
                           title="probability flow (c = 0.25): some stop before a vertex")
axes[0].legend(handles=axes[0].get_lines()[:3], fontsize=8, loc="lower left")
fig.tight_layout()

for y0, a, b in zip(starts, score_paths, prob_paths):
    ca, cb = classify(data, [a.endpoint, b.endpoint])
    print(f"start {y0}: score flow -> {ca.cls:8}  probability flow -> {cb.cls}")

# %% [markdown]
# The score flow goes to the **closest vertex** (Thm 4.3): a training point or the virtual point
# `(1, 1)`. The probability flow ends at a vertex for some starts but stops short for others: on
# an edge of the square (a **boundary point**, a new sample that is neither a training point nor
# a vertex) or, when both coordinates stop, inside it. Why? While the noise falls, the kinks
# `rho(s)` and `r - rho(s)` close in on `0` and `r`; a coordinate on the steep middle piece is
# pushed away from `r/2` only for the finite rescaled time the shrinking noise leaves it.

# %% [markdown]
# ## 4. Early stopping and the threshold `c_0`
#
# Thm 4.4: the probability flow from `y_0` reaches the closest vertex iff `c > c_0(y_0)`, with
#
# `c_0 = max_n min(t_n, r_n - t_n) / sigma_max` over the coordinates with `0 < t_n < r_n`.
#
# A start inside the box needs `c` above the distance of its most central coordinate to the
# box's faces. One start first:

# %%
y0 = np.array([0.3, 0.8])
th = c0_closed_form(data, y0, 1.0, "exact")
print(f"y0 = {y0}: c_0 = {th.c0:.3g} (decided by coordinate {th.deciding})")
for c in (0.15, 0.25, 0.35):
    end = probability_flow(data, y0, c=c, sigma_max=1.0).endpoint
    print(f"  c = {c}: endpoint {np.round(end, 4)} -> {classify(data, [end])[0].cls}")

# %% [markdown]
# Now many starts at once: 600 random starts over the square and a little around it, and
# several values of `c` up to the end of the low-noise regime
# `c_max = min_n r_n / (2 sigma_max) = 0.5`. An endpoint off the vertices is a **boundary**
# point when some coordinate reached `0` or `r_n` (an edge of the square), and **other** when
# every coordinate froze inside (the interior). The dashed line is Thm 4.4's prediction, the
# share of starts with `c < c_0(y_0)`; the dots are the measured share of endpoints off the
# vertices.

# %%
Y0 = np.random.default_rng(0).uniform(-0.2, 1.2, size=(600, 2))  # seed 0
c0s = np.array([c0_closed_form(data, y, 1.0, "exact").c0 or 0.0 for y in Y0])
cs = [0.05, 0.15, 0.25, 0.35, 0.45]
runs, measured = {}, []
for c in cs:
    ends = probability_flow_batch(data, Y0, c=c, sigma_max=1.0)
    classes = classify(data, ends)
    runs[f"c = {c}"] = classes
    measured.append(np.mean([k.cls in ("boundary", "other") for k in classes]))
predicted = [np.mean(c < c0s) for c in cs]

fig, axes = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1.3, 1]})
plotting.plot_endpoint_classes(runs, ax=axes[0],
                               title=f"probability-flow endpoints of {len(Y0)} starts")
cc = np.linspace(0.01, 0.5, 100)
axes[1].plot(cc, [100 * np.mean(c < c0s) for c in cc], "--", color="k",
             label="Thm 4.4: share with c < c_0(y_0)")
axes[1].plot(cs, 100 * np.array(measured), "o", color=plotting.CLASS_COLORS["boundary"],
             label="measured share off the vertices")
axes[1].set(xlabel="c = rho / sigma", ylabel="endpoints (%)")
axes[1].set_title("early stopping: more endpoints off the vertices as c falls", fontsize=10)
axes[1].legend(fontsize=8)
fig.tight_layout()
# the prediction is exact for every start (no tie c = c_0 among random starts)
assert np.allclose(measured, predicted, atol=1e-12), (measured, predicted)

# %% [markdown]
# ## What to take away
#
# * The min-cost denoiser does not only memorize the training points: every hyperbox vertex is
#   a stable fixed point, so the **score flow** produces sums of training points (virtual
#   points).
# * The **probability flow** can stop **early**, on the hyperbox boundary, when `c < c_0`:
#   samples that are neither training points nor vertices.
# * The same holds for an obtuse simplex (Thms B.1-B.3) and, differently, for an equilateral
#   triangle (Prop. C.1): `docs/experiments/score-fields.md`.
#
# Next: `02_checking_a_claim.py` (state and check your own claim), the tutorial
# `docs/tutorial.md`, and the experiments `flows experiment NAME --out DIR`.
