"""Batch integration of the flows: one vectorised DOP853 over many trajectories.

A per-trajectory :func:`scipy.integrate.solve_ivp` loop pays Python overhead per step per point
(15-50 ms a trajectory here).  This module advances a whole batch at once: every Runge-Kutta
stage is one NumPy operation over all active points, while each point keeps **its own** time,
step size, error control, held pieces and kink events, so it follows the path its own
``solve_ivp(method="DOP853")`` call would follow (same tableau, error estimator and step-size
controller as SciPy's ``DOP853``; the RMS error norm is taken per point over its ``d``
components, so a batch never dilutes one point's error into the others').

The flow conventions are those of :mod:`numerics.flows` (whose constants this module shares):

* pieces are **held fixed** between kink events (the Taylor models' denoisers jump at kinks);
* a step after which some unit has left its piece's interval (margin < 0, with the same
  hysteresis / dead band as the per-trajectory integrator) is **shortened** by Illinois regula
  falsi on the step length -- each trial a full DOP853 step from the same start -- until the
  margin lies in ``[-EVENT_TOL * max r, 0]``; the unit then switches piece by the one-sided
  velocities (:func:`numerics.exact.kink_transition`) and is snapped onto its kink;
* a point whose units are all on flat pieces with a fixed point that stays in the region ends
  **analytically** (``y* + (y - y*) e^{-elapsed}``);
* the probability flow stops at ``rho = FINAL_RHO min r`` and is continued exactly with the
  ``rho = 0`` denoiser; the score flow stops at its ``TAU_CAP`` and is continued exactly by
  :class:`numerics.exact.PiecewiseAffineScoreFlow`;
* a point that would **slide** along a kink (Filippov; ``taylor-fixed-kinks`` on obtuse data) or
  keeps switching without moving is handed, from its current state and time, to the
  per-trajectory integrator of :mod:`numerics.flows`, which handles both.

``tests/test_flows.py`` checks the batch against the per-trajectory integrator and the exact
ones; ``bench/bench_flows.py`` measures the speed.
"""
from __future__ import annotations

import numpy as np
from scipy.integrate._ivp import dop853_coefficients as _dop

from . import exact as ex
from .evaluate import LINEAR, LOWER, UPPER, CompiledDenoiser
from .flows import MAX_STALLS_PER_UNIT, STALL_TOL, fixed_point_inside, kink_band

#: A located kink event leaves the unit at most this far (times ``max r``) beyond the end of
#: its hysteresis band; the snap onto the kink then removes it.  Half the per-trajectory
#: integrator's ``KINK_TOL``: the event is placed as precisely as that integrator places it.
EVENT_TOL = 0.5 * ex.KINK_TOL
#: Regula-falsi trials per event before the point is handed to the per-trajectory integrator.
MAX_EVENT_TRIALS = 60
#: DOP853 step-size controller (SciPy's constants; order 7 error estimate).
SAFETY, MIN_FACTOR, MAX_FACTOR, ERROR_EXPONENT = 0.9, 0.2, 10.0, -1.0 / 8.0
_A, _B, _C = _dop.A[:_dop.N_STAGES, :_dop.N_STAGES], _dop.B, _dop.C[:_dop.N_STAGES]
_E3, _E5 = _dop.E3, _dop.E5


class BatchFlow:
    """Integrator of ``dy/dt = h_{rho(t)}(y) - y`` for a batch of points (module docstring).

    ``rho0``: the noise radius at ``t = 0``; ``moving=True`` for the probability flow
    (``rho(t) = rho0 e^{-t}``, kinks move), ``False`` for the score flow (``rho`` fixed).
    """

    def __init__(self, cd: CompiledDenoiser, rho0: float, *, moving: bool, rtol: float,
                 atol: float):
        self.cd, self.rho0, self.moving = cd, float(rho0), moving
        self.rtol, self.atol = float(rtol), float(atol)
        self.rmin, self.rmax = float(np.min(cd.r)), float(np.max(cd.r))
        self.cols = np.arange(cd.N)
        self._p_fixed = None if moving else cd.params(self.rho0)
        # state = coordinates c in the data span (y = o + c B + z_perp): h(y) - y has no
        # component off the span, so z_perp decays exactly as e^{-t} and is not integrated
        _, sv, Vt = np.linalg.svd(cd.U, full_matrices=False)
        self.B = Vt[:int(np.sum(sv > 1e-12 * sv[0]))]   # (m, d) orthonormal
        self.Ut = cd.U @ self.B.T                        # (N, m): t = Ut c

    # -- the field with held pieces --------------------------------------------------------
    def rho(self, t):
        return self.rho0 * np.exp(-t) if self.moving else np.full(np.shape(t), self.rho0)

    def params(self, t):
        return self._p_fixed if not self.moving else self.cd.params_many(self.rho(t))

    def _take(self, arr, P):
        """``arr[P_n, n]`` per point: ``arr`` is (3, N) (one rho) or (n, 3, N) (one per point)."""
        if arr.ndim == 2:
            return arr[P, self.cols]
        return np.take_along_axis(arr, P[:, None, :], axis=1)[:, 0, :]

    def held(self, P):
        """Per-step data of the held pieces: the piece masks, and for a fixed ``rho`` the held
        coefficients themselves (they do not change within a step)."""
        masks = [(P == k).astype(float) for k in (LOWER, LINEAR, UPPER)]
        if self.moving:
            return masks, None
        p = self._p_fixed
        return masks, (self._take(p.A, P), self._take(p.B, P))

    def field(self, C, t, P, held=None):
        """``h(y) - y`` in span coordinates: ``G Ut - c`` with ``G`` the held unit responses."""
        masks, fixed = self.held(P) if held is None else held
        if fixed is not None:
            A, B = fixed
        else:
            v = self.cd.coefficients_many(self.rho(t))
            A = masks[0] * v[0] + masks[1] * v[1] + masks[2] * v[2]
            B = masks[0] * v[3] + masks[1] * v[4] + masks[2] * v[5]
        G = A * (C @ self.Ut.T) + B
        return G @ self.Ut - C

    def margins(self, C, t, P):
        """Per unit: distance to the end of its held piece's interval plus the hysteresis band
        of :meth:`numerics.flows._Field.margins` (>= 0 inside), shape (n, N)."""
        p = self.params(t)
        k_lo = np.broadcast_to(p.k_lo, P.shape)
        k_hi = np.broadcast_to(p.k_hi, P.shape)
        T = C @ self.Ut.T
        lo = np.where(P == LOWER, -np.inf, np.where(P == LINEAR, k_lo, k_hi))
        hi = np.where(P == LOWER, k_lo, np.where(P == LINEAR, k_hi, np.inf))
        return np.minimum(T - lo, hi - T) + kink_band(self.rho(t)[:, None], self.rmin, self.rmax)

    # -- one DOP853 step for a sub-batch ------------------------------------------------------
    def step(self, Y, t, h, P, F0):
        """Stages, new state and error norm (per point) of one step ``h`` (n,) from ``(t, Y)``."""
        n, d = Y.shape
        K = np.empty((_dop.N_STAGES + 1, n, d))
        K[0] = F0
        hh = h[:, None]
        held = self.held(P)
        for s in range(1, _dop.N_STAGES):
            dY = np.tensordot(_A[s, :s], K[:s], axes=(0, 0)) * hh
            K[s] = self.field(Y + dY, t + _C[s] * h, P, held)
        Y_new = Y + np.tensordot(_B, K[:-1], axes=(0, 0)) * hh
        K[-1] = self.field(Y_new, t + h, P, held)
        scale = self.atol + np.maximum(np.abs(Y), np.abs(Y_new)) * self.rtol
        err5 = np.tensordot(_E5, K, axes=(0, 0)) / scale
        err3 = np.tensordot(_E3, K, axes=(0, 0)) / scale
        e5, e3 = np.sum(err5 ** 2, axis=1), np.sum(err3 ** 2, axis=1)
        denom = e5 + 0.01 * e3
        with np.errstate(invalid="ignore", divide="ignore"):
            err = np.where(denom > 0, np.abs(h) * e5 / np.sqrt(denom * d), 0.0)
        return Y_new, K[-1], err

    def initial_step(self, Y, t, P, F0, t_end):
        """SciPy's ``select_initial_step`` (order 7), per point (span coordinates)."""
        d = Y.shape[1]
        rms = lambda X: np.sqrt(np.sum(X ** 2, axis=1) / d)  # noqa: E731
        scale = self.atol + np.abs(Y) * self.rtol
        d0, d1 = rms(Y / scale), rms(F0 / scale)
        h0 = np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / np.maximum(d1, 1e-300))
        h0 = np.minimum(h0, t_end - t)
        F1 = self.field(Y + h0[:, None] * F0, t + h0, P)
        d2 = rms((F1 - F0) / scale) / h0
        big = np.maximum(d1, d2)
        h1 = np.where(big <= 1e-15, np.maximum(1e-6, h0 * 1e-3),
                      (0.01 / np.maximum(big, 1e-300)) ** (1.0 / 8.0))
        return np.minimum(np.minimum(100 * h0, h1), t_end - t)

    # -- kinks and the analytic end ---------------------------------------------------------------
    def switch(self, Y, t, P, j):
        """New pieces of unit ``j`` (n,) at a located event; returns ``(P, Y, slide)`` with the
        unit snapped onto its kink, and ``slide`` marking points the field pushes into the kink
        from both sides (Filippov sliding: left to the per-trajectory integrator)."""
        k = np.arange(Y.shape[0])
        p = self.params(t)
        k_lo = np.broadcast_to(p.k_lo, P.shape)[k, j]
        k_hi = np.broadcast_to(p.k_hi, P.shape)[k, j]
        Uj = self.Ut[j]
        tj = np.einsum("nd,nd->n", Y, Uj)
        at_lo = np.abs(tj - k_lo) <= np.abs(tj - k_hi)
        below = np.where(at_lo, LOWER, LINEAR)
        if self.moving:
            dk = p.dk if p.dk.ndim == 3 else np.broadcast_to(p.dk, (Y.shape[0],) + p.dk.shape)
            vk = -self.rho(t) * np.where(at_lo, dk[k, 0, j], dk[k, 1, j])
        else:
            vk = 0.0
        v = []
        for side in (below, below + 1):
            Ps = P.copy()
            Ps[k, j] = side
            v.append(np.einsum("nd,nd->n", self.field(Y, t, Ps), Uj) - vk)
        choice = ex.kink_transition(v[0], v[1], at_lo, ex.VELOCITY_TOL * self.rmax)
        slide = choice == 2
        P = P.copy()
        P[k, j] = np.where(slide, P[k, j], below + np.minimum(choice, 1))
        kink = np.where(at_lo, k_lo, k_hi)
        Y = Y + Uj * ((kink - tj) / np.sum(Uj * Uj, axis=1))[:, None]
        return P, Y, slide

    def fixed_points(self, Y, t, P, rho_final):
        """``(ok, y*)``: points whose units are all flat with the region's fixed point ``y*``
        inside the region now and at ``rho_final`` (see ``numerics.flows._Field.fixed_point``)."""
        cd = self.cd
        flat = np.all((P == LOWER) | (P == UPPER), axis=1)
        ystar = np.full((Y.shape[0], cd.d), np.nan)
        if not flat.any():
            return flat, ystar
        idx = np.flatnonzero(flat)
        p = self.params(t[idx]) if self.moving else self._p_fixed
        Bv = self._take(p.B, P[idx])
        ys = cd.origin + Bv @ cd.U
        Ts = (ys - cd.origin) @ cd.U.T
        pf = cd.params(rho_final)
        k_lo = np.broadcast_to(p.k_lo, Ts.shape)
        k_hi = np.broadcast_to(p.k_hi, Ts.shape)
        inside = fixed_point_inside(P[idx], Ts, k_lo, k_hi, pf, self.rmax)
        ok = np.zeros(Y.shape[0], dtype=bool)
        ok[idx] = np.all(inside, axis=1)
        ystar[idx] = ys
        return ok, ystar

    # -- the driver ---------------------------------------------------------------------------
    def run(self, Y0, t_end: float, rho_final: float):
        """Integrate every point of ``Y0`` from ``t = 0`` until it settles analytically or
        reaches ``t_end``.  Returns a dict of per-point arrays: ``Y`` (state where it stopped),
        ``t``, ``status`` (``"settled"`` -> ``ystar`` is the analytic fixed point; ``"end"``;
        ``"handoff"``: slides or stalls, continue with the per-trajectory integrator),
        ``ystar``, ``events``, ``steps``."""
        cd = self.cd
        Z = np.array(Y0, dtype=float) - cd.origin
        Y = Z @ self.B.T                                  # span coordinates (n, m)
        Zperp = Z - Y @ self.B
        n, N = Y.shape[0], cd.N
        t = np.zeros(n)
        P = cd.pieces(Y @ self.Ut.T, self.rho0).astype(np.int64)
        status = np.zeros(n, dtype=np.int8)            # 0 running, 1 settled, 2 end, 3 handoff
        ystar = np.full((n, cd.d), np.nan)
        events, steps, stalls = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
        F = self.field(Y, t, P)
        h = self.initial_step(Y, t, P, F, np.full(n, t_end)) if np.isfinite(t_end) else \
            self.initial_step(Y, t, P, F, np.full(n, np.inf))
        rejected = np.zeros(n, dtype=bool)
        # event bracket on the step length: (lo, m_lo) before the kink, (hi, m_hi) past it
        in_event = np.zeros(n, dtype=bool)
        ev = {k: np.zeros(n) for k in ("lo", "hi", "mlo", "mhi", "h_after", "side")}
        ev_j = np.zeros(n, np.int64)          # the unit whose margin the bracket follows
        mstart = np.zeros((n, N))             # all margins at the bracket's low end
        trials = np.zeros(n, np.int64)
        y_last_event = Y.copy()
        check_fixed = np.ones(n, dtype=bool)
        while True:
            run = status == 0
            if check_fixed.any():
                idx = np.flatnonzero(run & check_fixed)
                if idx.size:
                    ok, ys = self.fixed_points(Y[idx], t[idx], P[idx], rho_final)
                    status[idx[ok]], ystar[idx[ok]] = 1, ys[ok]
                check_fixed[:] = False
                run = status == 0
            done = run & (t >= t_end)
            status[done] = 2
            idx = np.flatnonzero(status == 0)
            if idx.size == 0:
                break
            Yi, ti, Pi = Y[idx], t[idx], P[idx]
            evi = in_event[idx]
            h_try = np.where(evi, _regula_falsi(ev, idx), np.minimum(h[idx], t_end - ti))
            Y_new, F_new, err = self.step(Yi, ti, h_try, Pi, F[idx])
            steps[idx] += 1
            ok_err = evi | (err < 1.0)
            with np.errstate(divide="ignore"):
                grow = np.where(err == 0, MAX_FACTOR,
                                np.minimum(MAX_FACTOR, SAFETY * err ** ERROR_EXPONENT))
                shrink = np.maximum(MIN_FACTOR, SAFETY * err ** ERROR_EXPONENT)
            # rejected by the error estimate: retry smaller
            bad = idx[~ok_err]
            h[bad] = h_try[~ok_err] * shrink[~ok_err]
            rejected[bad] = True
            # accepted by the error estimate: look for a kink crossed within the step
            acc = np.flatnonzero(ok_err)
            ia, ha = idx[acc], h_try[acc]
            Ya, Fa = Y_new[acc], F_new[acc]
            m = self.margins(Ya, ti[acc] + ha, Pi[acc])
            jmin = np.argmin(m, axis=1)
            g = m[np.arange(acc.size), jmin]
            crossed = g < 0
            located = crossed & (g >= -EVENT_TOL * self.rmax)
            was_event = in_event[ia]
            # (i) no crossing: commit the step
            free = ~crossed
            c_ = ia[free]
            if c_.size:
                Y[c_], F[c_], t[c_] = Ya[free], Fa[free], t[c_] + ha[free]
                plain = free & ~was_event
                pl = ia[plain]
                fac = np.where(rejected[pl], np.minimum(1.0, grow[acc][plain]), grow[acc][plain])
                h[pl] = ha[plain] * fac
                rejected[pl] = False
                # an event trial that landed short of the kink: re-base the bracket at the new
                # start (its low end), Illinois-halving the far end's value on a repeat
                short = free & was_event
                e_ = ia[short]
                if e_.size:
                    ev["mhi"][e_] *= np.where(ev["side"][e_] == -1.0, 0.5, 1.0)
                    ev["hi"][e_] -= ha[short]
                    ev["lo"][e_] = 0.0
                    mstart[e_] = m[short]
                    ev["mlo"][e_] = m[short][np.arange(e_.size), ev_j[e_]]
                    ev["side"][e_] = -1.0
                    trials[e_] += 1
                check_fixed[c_] = True
            # (ii) crossed, not yet located: open, re-target or narrow the bracket on the step
            # length for the unit that crosses (regula falsi on that unit's margin)
            nl = crossed & ~located
            if nl.any():
                new = nl & ~was_event
                k_ = ia[new]
                if k_.size:
                    mstart[k_] = self.margins(Y[k_], t[k_], P[k_])
                    ev["h_after"][k_] = ha[new] * grow[acc][new]
                    in_event[k_] = True
                    trials[k_] = 0
                    ev["side"][k_] = 0.0
                    ev_j[k_] = jmin[new]
                retarget = nl & was_event & (jmin != ev_j[ia])   # another unit crosses first
                r_ = ia[retarget]
                ev_j[r_] = jmin[retarget]
                ev["side"][r_] = 0.0
                o_ = ia[new | retarget]
                ev["lo"][o_], ev["mlo"][o_] = 0.0, mstart[o_, ev_j[o_]]
                b_ = ia[nl]
                ev["mlo"][b_] *= np.where(ev["side"][b_] == 1.0, 0.5, 1.0)  # Illinois
                ev["hi"][b_], ev["mhi"][b_] = ha[nl], g[nl]
                ev["side"][b_] = 1.0
                trials[b_] += 1
            # (iii) located: commit to the event, switch the unit
            l_ = ia[located]
            if l_.size:
                Yl = Ya[located]
                tl = t[l_] + ha[located]
                Pl, Yl, slide = self.switch(Yl, tl, P[l_], jmin[located])
                moved = np.max(np.abs(Yl - y_last_event[l_]), axis=1) > STALL_TOL * self.rmax
                stalls[l_] = np.where(moved, 0, stalls[l_] + 1)
                y_last_event[l_] = Yl
                Y[l_], t[l_], P[l_] = Yl, tl, Pl
                events[l_] += 1
                h[l_] = np.where(in_event[l_], ev["h_after"][l_], ha[located])
                in_event[l_] = False
                rejected[l_] = False
                handoff = l_[slide | (stalls[l_] > MAX_STALLS_PER_UNIT * N)]
                status[handoff] = 3
                keep = l_[status[l_] == 0]
                if keep.size:
                    F[keep] = self.field(Y[keep], t[keep], P[keep])
                    check_fixed[keep] = True
            # an event that regula falsi cannot pin down (e.g. a margin that does not cross
            # transversally) goes to the per-trajectory integrator from the last committed state
            status[(status == 0) & in_event & (trials > MAX_EVENT_TRIALS)] = 3
        Y = cd.origin + Y @ self.B + Zperp * np.exp(-t)[:, None]
        return {"Y": Y, "t": t, "status": np.array(["running", "settled", "end", "handoff"])[status],
                "ystar": ystar, "events": events, "steps": steps}


def _regula_falsi(ev, idx):
    """Next trial step length inside the event bracket (Illinois-modified false position)."""
    lo, hi, mlo, mhi = ev["lo"][idx], ev["hi"][idx], ev["mlo"][idx], ev["mhi"][idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        x = lo + (hi - lo) * mlo / (mlo - mhi)
    bad = ~np.isfinite(x) | (x <= lo) | (x >= hi)
    return np.where(bad, 0.5 * (lo + hi), x)
