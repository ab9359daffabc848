"""The training loops in JAX (paper eqs. 3-5, 22-26; docs/training.md).

One *program* trains every noise level of a stack at once: the per-level update (one outer
iteration of the augmented Lagrangian with its whole inner solve, or one chunk of Adam steps) is
written for a single level, ``jax.vmap``-ed over the level axis and ``jax.jit``-compiled; the
inner iterations are a ``jax.lax.scan``.  The host loop only repeats that program, prints
progress and stops once every level has reached its tolerance (a converged level is frozen by a
``where`` on its ``done`` flag, so the levels never wait for each other's numbers, only for the
slowest level's iteration count).

Only this module (through :mod:`training._backend`) touches JAX.
"""
from __future__ import annotations

import sys
import time

import numpy as np

from ._backend import load

_NAMES = ("A", "W", "b", "V", "c")
#: ``recycle`` acts while ``residual_max > RECYCLE_UNTIL * tolerance``.
RECYCLE_UNTIL = 10.0


def _fns(jnp):
    def forward(p, Y, mask=None):
        H = jnp.maximum(Y @ p["W"].T + p["b"], 0.0)  # eq. 4; [0]_+ = 0 (kink convention)
        if mask is not None:
            H = H * mask
        return H @ p["A"] + Y @ p["V"].T + p["c"]

    def weight_cost(p):  # eq. 5: biases, V and c unpenalised
        return 0.5 * (jnp.sum(p["A"] ** 2) + jnp.sum(p["W"] ** 2))

    def residual_max(p, Y, T):
        return jnp.max(jnp.sqrt(jnp.sum((forward(p, Y) - T) ** 2, axis=1)))

    return forward, weight_cost, residual_max


def _select(jax, jnp, done, old, new):
    return jax.tree_util.tree_map(lambda a, b: jnp.where(done, a, b), old, new)


def _log(progress, text):
    if progress:
        print(f"train: {text}", file=sys.stderr, flush=True)


def run(Ys, Ts, inits, tol, protocol, hyper, seed, progress=True, level_seeds=None):
    """Train ``L`` levels together.

    ``Ys``, ``Ts``: ``(L, n, d)`` samples and targets; ``inits``: dict of ``(L, ...)`` initial
    parameters; ``tol``: residual tolerance; ``level_seeds``: one integer per level seeding the
    random draws made during training (``al``'s recycled units; default ``0, 1, ...``).
    Returns ``(params, info)`` with ``params`` a dict of NumPy ``(L, ...)`` arrays and ``info``
    per-level lists ``iterations``, ``residual_max``, ``converged`` and the wall ``seconds``.
    """
    jax, jnp, optax = load()
    Ys, Ts = jnp.asarray(Ys, dtype=jnp.float64), jnp.asarray(Ts, dtype=jnp.float64)
    params = {k: jnp.asarray(inits[k], dtype=jnp.float64) for k in _NAMES}
    for arr in (Ys, Ts, *params.values()):
        assert arr.dtype == jnp.float64, arr.dtype  # jax_enable_x64 is on (see _backend)
    L = Ys.shape[0]
    t0 = time.perf_counter()
    if protocol == "al":
        seeds = np.arange(L) if level_seeds is None else np.asarray(level_seeds)
        step, state, budget, count = _al_program(jax, jnp, optax, params, Ys, Ts, tol, hyper,
                                                 seeds)
    else:
        step, state, budget, count = _adam_program(jax, jnp, optax, params, Ys, Ts, tol, hyper,
                                                   protocol, seed)
    _, weight_cost, residual_max = _fns(jnp)
    res_fn = jax.jit(jax.vmap(residual_max))
    cost_fn = jax.jit(jax.vmap(weight_cost))
    every = float(hyper["progress_seconds"])
    last = -np.inf
    calls = 0
    while calls < budget:
        state = step(state, Ys, Ts)
        calls += 1
        done = np.asarray(state["done"])
        now = time.perf_counter()
        if now - last >= every or done.all() or calls == budget:
            last = now
            res = np.asarray(res_fn(state["p"], Ys, Ts))
            cost = np.asarray(cost_fn(state["p"]))
            what = (f"outer {calls}/{budget} (mu {float(np.max(state['mu'])):.3g})"
                    if protocol == "al" else f"step {calls * count}/{budget * count}")
            # al and adam stop a level when it interpolates; the regularised protocols run
            # every level through its steps (their fit is not an interpolation)
            state_word = "converged" if protocol in ("al", "adam") else "through their steps"
            lv = f", {int(done.sum())}/{L} levels {state_word}" if L > 1 else ""
            _log(progress, f"{protocol} {what}: residual_max {res.max():.3e} (tolerance "
                           f"{tol:.1e}), weight cost {cost.max() if L == 1 else cost.sum():.6g}"
                           f"{lv}, {now - t0:.1f} s")
        if done.all():
            break
    p = {k: np.asarray(v) for k, v in state["p"].items()}
    res = np.asarray(res_fn(state["p"], Ys, Ts))
    iters = np.asarray(state["k"])  # outer iterations (al) or Adam steps (the others)
    return p, {"iterations": [int(i) for i in iters], "residual_max": [float(r) for r in res],
               "converged": [bool(r <= tol) for r in res],
               "seconds": time.perf_counter() - t0}


# -- augmented Lagrangian (eqs. 22-26) --------------------------------------------------------
# Before eqs. 24-26 proper, a penalty continuation (mu_start -> mu, multipliers at zero) with
# recycled dead units: docs/training.md, "Reaching the min-norm solution in higher dimension".
def _al_program(jax, jnp, optax, params, Ys, Ts, tol, hyper, level_seeds):
    forward, weight_cost, residual_max = _fns(jnp)
    mu_final, growth = float(hyper["mu"]), float(hyper["mu_growth"])
    mu_start = mu_final if hyper["mu_start"] is None else min(float(hyper["mu_start"]), mu_final)
    inner_steps = int(hyper["inner_steps"])
    decay, lr_min = float(hyper["lr_decay"]), float(hyper["lr_min"])

    def lagrangian(p, lam, mu, Y, T):  # eq. 23: C + lambda^T r + mu/2 |r|^2
        r = forward(p, Y) - T
        return weight_cost(p) + jnp.sum(lam * r) + 0.5 * mu * jnp.sum(r ** 2)

    if hyper["inner"] == "adam":
        opt = optax.inject_hyperparams(optax.adam)(learning_rate=float(hyper["lr"]))

        def inner(p, s, lam, mu, lr, Y, T):
            s = s._replace(hyperparams={**s.hyperparams, "learning_rate": lr})
            grad = jax.grad(lagrangian)

            def body(carry, _):
                p, s = carry
                upd, s = opt.update(grad(p, lam, mu, Y, T), s, p)
                return (optax.apply_updates(p, upd), s), None

            (p, s), _ = jax.lax.scan(body, (p, s), None, length=inner_steps)
            return p, s

        opt_state = jax.vmap(opt.init)(params)
    else:  # L-BFGS with optax's zoom line search; memory restarts at every outer iteration
        opt = optax.lbfgs(memory_size=int(hyper["lbfgs_memory"]))

        def inner(p, s, lam, mu, lr, Y, T):
            f = lambda q: lagrangian(q, lam, mu, Y, T)  # noqa: E731
            vg = optax.value_and_grad_from_state(f)

            def body(carry, _):
                p, s = carry
                v, g = vg(p, state=s)
                upd, s = opt.update(g, s, p, value=v, grad=g, value_fn=f)
                return (optax.apply_updates(p, upd), s), None

            (p, _), _ = jax.lax.scan(body, (p, opt.init(p)), None, length=inner_steps)
            return p, s

        opt_state = jnp.zeros(Ys.shape[0])  # unused placeholder carried through vmap

    eps = float(hyper["recycle"])

    def recycle(p, key, Y):
        """Units active on no sample have a zero gradient for ever: restart them as at
        initialisation (random direction, boundary through a random sample) at scale ``eps``
        (``|w_k| = eps``, ``a_k ~ N(0, (eps s)^2)``), so they can grow where the fit needs them."""
        dead = ~jnp.any(Y @ p["W"].T + p["b"] > 0, axis=0)
        k1, k2, k3 = jax.random.split(key, 3)
        Wn = jax.random.normal(k1, p["W"].shape)
        Wn = eps * Wn / jnp.linalg.norm(Wn, axis=1, keepdims=True)
        bn = -jnp.sum(Wn * Y[jax.random.randint(k2, dead.shape, 0, Y.shape[0])], axis=1)
        s = jnp.max(jnp.linalg.norm(Y - jnp.mean(Y, axis=0), axis=1))  # data scale
        An = eps * s * jax.random.normal(k3, p["A"].shape)
        return {**p, "W": jnp.where(dead[:, None], Wn, p["W"]), "b": jnp.where(dead, bn, p["b"]),
                "A": jnp.where(dead[:, None], An, p["A"])}

    def outer(state, Y, T):  # one update of eqs. 24-26 (and the learning-rate decrease)
        mu = state["mu"]
        p, s = inner(state["p"], state["s"], state["lam"], mu, state["lr"], Y, T)
        if eps > 0:
            # only while the fit is far from the tolerance: a recycled unit moves h by about
            # eps^2 s, so near the tolerance the units are left alone and the fit can settle
            far = residual_max(p, Y, T) > RECYCLE_UNTIL * tol
            p = _select(jax, jnp, far, recycle(p, jax.random.fold_in(state["key"], state["k"]),
                                               Y), p)
        r = forward(p, Y) - T
        # penalty continuation: while mu < mu_final an outer iteration raises mu and leaves the
        # multipliers at zero (a quadratic-penalty path); from mu_final on, eqs. 24-26
        al = mu >= mu_final
        new = {"p": p, "s": s, "lam": jnp.where(al, state["lam"] + mu * r, state["lam"]),
               "mu": jnp.minimum(mu * growth, mu_final),
               "lr": jnp.maximum(state["lr"] * decay, lr_min),
               "k": state["k"] + 1, "key": state["key"],
               "done": residual_max(p, Y, T) <= tol}
        return _select(jax, jnp, state["done"], state, new)

    L = Ys.shape[0]
    state = {"p": params, "s": opt_state, "lam": jnp.zeros_like(Ys),
             "mu": jnp.full(L, mu_start),
             "key": jax.vmap(jax.random.PRNGKey)(jnp.asarray(level_seeds)),
             "lr": jnp.full(L, float(hyper["lr"])), "k": jnp.zeros(L, dtype=jnp.int64),
             "done": jnp.zeros(L, dtype=bool)}
    return jax.jit(jax.vmap(outer)), state, int(hyper["outer_steps"]), inner_steps


# -- plain / weight-decayed / dropout Adam on the MSE (eq. 3; App. F, H) ----------------------
def _adam_program(jax, jnp, optax, params, Ys, Ts, tol, hyper, protocol, seed):
    forward, weight_cost, residual_max = _fns(jnp)
    steps, chunk = int(hyper["steps"]), int(hyper["chunk_steps"])
    lr0, lr1 = float(hyper["lr"]), float(hyper["lr_final"])
    wd = float(hyper.get("weight_decay", 0.0)) if protocol in ("adam-wd", "dropout") else 0.0
    rate = float(hyper.get("dropout", 0.0)) if protocol == "dropout" else 0.0
    K = params["A"].shape[1]
    # plain Adam stops once it interpolates; with weight decay (and dropout) the regularised
    # loss has its own minimiser, reached only by running the whole budget
    early_stop = protocol == "adam"

    def loss(p, Y, T, mask):
        mse = jnp.mean(jnp.sum((forward(p, Y, mask) - T) ** 2, axis=1))  # eq. 3
        return mse + wd * weight_cost(p)  # weight decay on a_k, w_k only (App. F)

    opt = optax.inject_hyperparams(optax.adam)(learning_rate=lr0)
    grad = jax.grad(loss)

    def chunk_fn(state, Y, T):
        def body(carry, _):
            p, s, t = carry
            # exponential decay lr0 -> lr_final over the step budget
            lr = lr0 * (lr1 / lr0) ** (jnp.minimum(t, steps) / steps)
            s = s._replace(hyperparams={**s.hyperparams, "learning_rate": lr})
            if rate > 0:  # App. H: inverted dropout on the hidden layer, a fresh mask each step
                keep = jax.random.bernoulli(jax.random.fold_in(state["key"], t), 1.0 - rate,
                                            (Y.shape[0], K))
                mask = keep / (1.0 - rate)
            else:
                mask = None
            upd, s = opt.update(grad(p, Y, T, mask), s, p)
            return (optax.apply_updates(p, upd), s, t + 1), None

        (p, s, t), _ = jax.lax.scan(body, (state["p"], state["s"], state["t"]), None,
                                    length=chunk)
        new = {"p": p, "s": s, "t": t, "key": state["key"], "k": t,
               "done": (residual_max(p, Y, T) <= tol) if early_stop else t >= steps}
        return _select(jax, jnp, state["done"], state, new)

    L = Ys.shape[0]
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(int(seed)), i))(
        jnp.arange(L))
    state = {"p": params, "s": jax.vmap(opt.init)(params), "t": jnp.zeros(L, dtype=jnp.int64),
             "key": keys, "k": jnp.zeros(L, dtype=jnp.int64), "done": jnp.zeros(L, dtype=bool)}
    budget = -(-steps // chunk)
    return jax.jit(jax.vmap(chunk_fn)), state, budget, chunk
