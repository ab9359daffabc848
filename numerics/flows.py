"""Score and probability flows of the closed-form denoisers (docs/math.md §3; paper eqs. 11-14).

Public functions (each returns a frozen :class:`FlowResult`, or endpoints for the batch forms):

* :func:`score_flow` — rescaled score flow ``dy/dtau = h_rho(y) - y`` (eq. 14), fixed ``rho``;
  endpoint ``tau -> oo``.
* :func:`probability_flow` — probability flow in log-noise time ``s = ln(sigma_max/sigma)``:
  ``dy/ds = h_{rho(s)}(y) - y``, ``rho(s) = c sigma_max e^{-s}`` (eq. 12), ``s`` in
  ``[0, ln(sigma_max/sigma_min)]`` (infinite for ``sigma_min = 0``).
* :func:`probability_flow_original_time` — the same flow in the original time of a schedule
  (:mod:`numerics.schedules`): ``dx/dt = -(sigma'/sigma)(D_sigma(x) - x)`` (eq. 11).
* :func:`score_flow_batch`, :func:`probability_flow_batch` — endpoints of many initial points.

``method="exact"`` uses :mod:`numerics.exact` (orthogonal data: per-coordinate closed forms, both
flows; score flow on any dataset: exact piecewise-affine integration).  ``method="ivp"`` uses
:func:`scipy.integrate.solve_ivp` (DOP853, default ``rtol=1e-10``, ``atol=1e-12 max_n r_n``:
the accuracy at which the two methods agree to ~1e-9, ``tests/test_flows.py``) on the full ``d``-dimensional
state, with:

* **kink events** — every unit's piece is *held fixed* between events (the Taylor models'
  denoisers jump at the kinks; evaluating pieces from the state makes the step controller
  chatter).  One terminal event, the smallest margin of any unit to the end of its piece's
  interval (kinks move with ``rho`` in the probability flow), stops the integration at a kink;
  the new piece is chosen from the two one-sided velocities (:func:`numerics.exact.kink_transition`)
  and the integration restarts.  Steps therefore never straddle a kink.
* **Filippov sliding** — when the field on both sides points into a kink (``taylor-fixed-kinks``
  on obtuse data: a unit pushed onto its kink at ``0``) the unit slides: its projection is held
  on the kink and the field is projected onto the constraint set (the unit's response replaced by
  the equivalent value ``gamma`` between its two one-sided responses); the sliding ends by an
  event when ``gamma`` reaches either one-sided response.
* **dead band** — once ``rho < DEAD_BAND * min r_n`` a kink counts as crossed only
  ``DEAD_BAND * min r_n`` beyond it (kink crossings there are floating-point noise: a coordinate
  on a flat piece moves exactly with its kink).
* **analytic endpoint** — once every unit is on a flat piece whose affine fixed point
  ``y* = o + sum_n B_n u_n`` lies in the region for all later times (checked at the current
  time and at ``rho -> 0``: kinks and flat-piece solutions are both affine in ``e^{-s}``), the rest
  is ``y* + (y - y*) e^{-(time elapsed)}`` exactly.  Otherwise the probability flow is
  integrated until ``rho < FINAL_RHO * min r_n`` and then continued exactly by the rescaled score
  flow of the ``rho = 0`` denoiser (:class:`numerics.exact.PiecewiseAffineScoreFlow`); the score
  flow, if it has not settled by ``TAU_CAP``, is continued exactly the same way.

**Kink starts (convention).**  A unit starting exactly on a kink is on its flat piece
(docs/math.md §5 "Kink starts").  In the ``taylor`` model the probability flow started on the moving kink has two solutions (ride
the kink on the flat piece, or enter the middle piece); the flat one is returned.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from theory.datasets import Dataset, OrthogonalDataset
from theory.denoisers import check_low_noise
from theory.errors import NonFiniteError, NotRepresentableError, OutOfRangeError, ShapeError, UnknownChoiceError

from . import exact as ex
from .evaluate import LINEAR, LOWER, CompiledDenoiser, compile_denoiser
from .validation import (as_batch, as_float_array, as_point, as_times, check_choice,
                         check_dataset,
                         check_nonnegative, check_positive, check_radius, check_tolerances)

#: Below ``rho = DEAD_BAND * min r_n`` kink crossings are floating-point noise (a flat-piece
#: coordinate moves exactly with its kink); crossings count only this far beyond the kink.
DEAD_BAND = 1e-9
#: The probability flow is integrated until ``rho(s) = FINAL_RHO * min r_n``; the remaining
#: ``rho``-dependence of the field is then below float64 resolution, and the flow is continued
#: exactly with the ``rho = 0`` denoiser.
FINAL_RHO = 1e-17
#: Score flow: integrate at most to ``TAU_CAP_FACTOR * max(1, max r / rho)`` (the middle-piece
#: exit time from ``|t - r/2| ~ 1e-16 r`` is ``~ 37 r/(2 rho)``), then continue exactly.
TAU_CAP_FACTOR = 100.0
#: A unit's position within this (times ``max r``) of the analytic fixed point's region counts
#: as inside (float64 rounding of the fixed point ``o + sum B_n u_n``).
FIXED_POINT_TOL = 1e-12
#: Zero-length segments (switching at one instant) allowed before the state is declared stuck.
MAX_STALLS_PER_UNIT = 4
#: A segment moving the state by less than this (times ``max r``) makes no progress.
STALL_TOL = 1e-10
#: Integration methods and flows.
METHODS = ("exact", "ivp")
#: Default absolute tolerance of DOP853, relative to ``max_n r_n``: absolute errors are
#: measured in the data's own units, so data at scale 1e-150 is integrated as accurately as
#: data at scale 1 (a fixed 1e-12 would swamp it; at scale 1 the two are the same).
ATOL_RELATIVE = 1e-12


@dataclass(frozen=True)
class FlowResult:
    """One integrated flow.  ``times`` are ``tau`` (score flow) or ``s = ln(sigma_max/sigma)``
    (probability flow); ``path[k]`` is the state at ``times[k]`` (``inf`` = the limit)."""

    flow: str
    model: str
    method: str
    endpoint: np.ndarray
    times: np.ndarray
    path: np.ndarray
    kink_events: int
    message: str
    original_times: np.ndarray | None = field(default=None)


# ------------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------------
def _check_method(method):
    check_choice(method, "method", METHODS)


def _positive(name, value, allow_zero=False):
    return check_nonnegative(value, name) if allow_zero else check_positive(value, name)


def _setup(dataset, model, rho):
    """Validate the dataset/model/radius (raises the theory errors) and compile the denoiser."""
    check_dataset(dataset)
    check_low_noise(dataset, rho, model)  # model availability, low-noise regime
    return compile_denoiser(dataset, model)


def _atol(cd, atol):
    """The absolute tolerance: as given, or :data:`ATOL_RELATIVE` times ``max_n r_n``."""
    return ATOL_RELATIVE * float(np.max(cd.r)) if atol is None else atol


def _times(times, name="times"):
    if times is None:
        return None
    return as_times(times, name)


def _is_orthogonal(dataset):
    return isinstance(dataset, OrthogonalDataset)


# ------------------------------------------------------------------------------------------------
# the ivp machinery (single trajectory, full d-dimensional state)
# ------------------------------------------------------------------------------------------------
def kink_band(rho, rmin: float, rmax: float):
    """Hysteresis of the kink events (shared by both ivp integrators): a crossing counts only this
    far beyond the kink -- ``KINK_TOL max r`` (a unit resting on its kink would otherwise trigger
    on rounding noise), ``DEAD_BAND min r`` once ``rho`` is that small.  ``rho`` may be an array."""
    return np.where(np.asarray(rho) < DEAD_BAND * rmin, DEAD_BAND * rmin, ex.KINK_TOL * rmax)


def fixed_point_inside(code, Ts, k_lo, k_hi, pf, rmax: float):
    """Per unit: does the flat-piece fixed point's projection ``Ts`` stay in its region now (kinks
    ``k_lo``, ``k_hi``) and at the final noise level (parameters ``pf``), within
    ``FIXED_POINT_TOL max r`` (float64 rounding of ``o + sum B_n u_n``)?"""
    tol = FIXED_POINT_TOL * rmax
    return np.where(code == LOWER, (Ts <= pf.k_lo + tol) & (Ts <= k_lo + tol),
                    (Ts >= pf.k_hi - tol) & (Ts >= k_hi - tol))


class _Field:
    """The field ``F = h_rho(y) - y`` with held pieces and Filippov sliding, plus the margins."""

    def __init__(self, cd: CompiledDenoiser, moving: bool):
        self.cd = cd
        self.moving = moving          # probability flow: kinks move, v = -rho dk/drho
        self.rmin = float(np.min(cd.r))
        self.rmax = float(np.max(cd.r))

    def held(self, code):
        return ex.held_pieces(code)

    def kink_velocity(self, rho):
        if not self.moving:
            return np.zeros((2, self.cd.N))
        return -rho * self.cd.params(rho).dk

    def field(self, y, rho, code):
        cd = self.cd
        F = cd.drift(y[None], rho, self.held(code)[None])[0]
        S = np.flatnonzero(code >= ex.SLIDE_LO)
        if S.size:
            Us = cd.U[S]
            v = self.kink_velocity(rho)[np.where(code[S] == ex.SLIDE_LO, 0, 1), S]
            F = F + Us.T @ np.linalg.solve(Us @ Us.T, v - Us @ F)
        return F

    def margins(self, y, rho, code):
        """Per unit: distance to the end of its piece (free) or of its sliding range (>= 0 inside)."""
        cd = self.cd
        p = cd.params(rho)
        T = (y - cd.origin) @ cd.U.T
        held = self.held(code)
        lo = np.where(held == LOWER, -np.inf, np.where(held == LINEAR, p.k_lo, p.k_hi))
        hi = np.where(held == LOWER, p.k_lo, np.where(held == LINEAR, p.k_hi, np.inf))
        m = np.minimum(T - lo, hi - T)
        S = np.flatnonzero(code >= ex.SLIDE_LO)
        if S.size:
            Fm = cd.drift(y[None], rho, held[None])[0]
            Us = cd.U[S]
            side = np.where(code[S] == ex.SLIDE_LO, 0, 1)
            v = self.kink_velocity(rho)[side, S]
            below = np.where(side == 0, LOWER, LINEAR)
            kink = np.where(side == 0, p.k_lo[S], p.k_hi[S])
            g_below = p.A[below, S] * kink + p.B[below, S]
            g_above = p.A[below + 1, S] * kink + p.B[below + 1, S]
            gamma = g_below + np.linalg.solve(Us @ Us.T, v - Us @ Fm)
            m[S] = np.minimum(gamma - g_above, g_below - gamma)
        # hysteresis: a crossing counts only KINK_TOL beyond the kink (a unit resting on its kink
        # would otherwise trigger on rounding noise); DEAD_BAND once rho is that small
        return m + kink_band(rho, self.rmin, self.rmax)

    def switch(self, y, rho, code, j):
        """New code after unit ``j`` reached the end of its range at ``y``; returns (code, y)."""
        cd = self.cd
        p = cd.params(rho)
        code = code.copy()
        t = (y - cd.origin) @ cd.U[j]
        old = code[j]
        if old >= ex.SLIDE_LO:
            at_lo = old == ex.SLIDE_LO
            # leave towards the side whose one-sided response gamma has reached
            held = self.held(code)
            Fm = cd.drift(y[None], rho, held[None])[0]
            S = np.flatnonzero(code >= ex.SLIDE_LO)
            Us = cd.U[S]
            k = int(np.flatnonzero(S == j)[0])
            side = np.where(code[S] == ex.SLIDE_LO, 0, 1)
            v = self.kink_velocity(rho)[side, S]
            below = LOWER if at_lo else LINEAR
            kink = p.k_lo[j] if at_lo else p.k_hi[j]
            gamma = (p.A[below, j] * kink + p.B[below, j]
                     + np.linalg.solve(Us @ Us.T, v - Us @ Fm)[k])
            g_above = p.A[below + 1, j] * kink + p.B[below + 1, j]
            g_below = p.A[below, j] * kink + p.B[below, j]
            code[j] = below + 1 if abs(gamma - g_above) <= abs(gamma - g_below) else below
            return code, y
        at_lo = abs(t - p.k_lo[j]) <= abs(t - p.k_hi[j])
        below = LOWER if at_lo else LINEAR
        vk = self.kink_velocity(rho)[0 if at_lo else 1, j]
        cb, ca = code.copy(), code.copy()
        cb[j], ca[j] = below, below + 1
        vb = cd.U[j] @ self.field(y, rho, cb) - vk
        va = cd.U[j] @ self.field(y, rho, ca) - vk
        choice = int(ex.kink_transition(vb, va, at_lo, ex.VELOCITY_TOL * self.rmax))
        code[j] = (ex.SLIDE_LO if at_lo else ex.SLIDE_HI) if choice == 2 else below + choice
        # snap unit j (and every sliding unit) exactly onto its kink: least-norm correction of y
        A = np.union1d(np.flatnonzero(code >= ex.SLIDE_LO), [j])
        kink = np.where(code[A] == ex.SLIDE_LO, p.k_lo[A], np.where(code[A] == ex.SLIDE_HI,
                        p.k_hi[A], np.where(A == j, p.k_lo[A] if at_lo else p.k_hi[A], 0.0)))
        UA = cd.U[A]
        y = y + UA.T @ np.linalg.solve(UA @ UA.T, kink - UA @ (y - cd.origin))
        return code, y

    def fixed_point(self, y, rho, code, rho_final):
        """``y*`` if every unit is flat and ``y*`` stays in the region until ``rho_final``."""
        cd = self.cd
        if np.any((code == LINEAR) | (code >= ex.SLIDE_LO)):
            return None
        p = cd.params(rho)
        B = p.B[code, np.arange(cd.N)]
        ystar = cd.origin + B @ cd.U
        Ts = (ystar - cd.origin) @ cd.U.T
        pf = cd.params(rho_final)
        ok = fixed_point_inside(code, Ts, p.k_lo, p.k_hi, pf, self.rmax)
        return ystar if np.all(ok) else None


def _initial_code(cd, y, rho):
    return cd.pieces(((y - cd.origin) @ cd.U.T)[None], rho)[0].astype(np.int64)


@contextmanager
def _within_float64(Y0):
    """Turn a state that left float64's range inside ``solve_ivp`` (NaN from ``inf - inf`` far
    from the data) into one clear error instead of a message about an internal array."""
    try:
        yield
    except NonFiniteError as exc:
        scale = float(np.max(np.abs(Y0))) if np.size(Y0) else 0.0
        raise NotRepresentableError(
            f"the ivp integration left float64's range (max |y0| = {scale:.3g}): start "
            "closer to the data, or use method='exact' where it exists") from None


def _integrate_ivp(cd, y0, *, t_span, rho_of, sdot_of, s_of, moving, rho_final, rtol, atol,
                   t_eval=None):
    """Integrate ``dy/dt = sdot(t) F_{rho(t)}(y)`` over ``t_span`` with kink events.

    Returns ``(y_end, samples, t_reached, events, settled)``: ``samples`` maps each requested
    time of ``t_eval`` inside the reached range to its state; ``settled`` is ``(y*, s_a)`` when the
    analytic flat-piece endpoint applies from ``s_a`` on (then ``t_reached`` is where it was
    detected), ``("stalled", s_a)`` when the state stopped moving while switching pieces on
    kinks (a stationary point on kinks, e.g. a vertex reached by sliding units), else ``None``.
    """
    fld = _Field(cd, moving)
    t, t_end = float(t_span[0]), float(t_span[1])
    direction = 1.0 if t_end > t else -1.0
    y = np.array(y0, dtype=float)
    code = _initial_code(cd, y, rho_of(t))
    events = 0
    stalls = 0
    samples = {}
    t_eval = np.array([] if t_eval is None else t_eval, dtype=float)
    while True:
        ystar = fld.fixed_point(y, rho_of(t), code, rho_final)
        if ystar is not None:
            return y, samples, t, events, (ystar, s_of(t))
        if (t_end - t) * direction <= 0:
            return y, samples, t, events, None
        code_now = code.copy()

        def rhs(tt, yy):
            return sdot_of(tt) * fld.field(yy, rho_of(tt), code_now)

        def event(tt, yy):
            return float(np.min(fld.margins(yy, rho_of(tt), code_now)))
        event.terminal = True
        event.direction = -1
        inside = t_eval[(t_eval - t) * direction >= 0]
        inside = inside[(t_end - inside) * direction >= 0]
        sol = solve_ivp(rhs, (t, t_end), y, method="DOP853", rtol=rtol, atol=atol, events=event,
                        dense_output=True)
        if sol.status < 0:
            raise RuntimeError(f"solve_ivp failed: {sol.message}")
        t_new = float(sol.t[-1])
        for te in inside:
            if (t_new - te) * direction >= 0:
                samples[float(te)] = sol.sol(te)
        y_new = sol.y[:, -1].copy()
        # a segment that does not move the state (switching back and forth on kinks at a point
        # that is stationary up to rounding) is a stall
        still = np.max(np.abs(y_new - y)) <= STALL_TOL * fld.rmax
        stalls = stalls + 1 if still else 0
        y, t = y_new, t_new
        if sol.status == 1:
            if stalls > MAX_STALLS_PER_UNIT * cd.N:
                return y, samples, t, events, ("stalled", s_of(t))
            # switch every unit that has reached the end of its range: two units can reach
            # their kinks within one event's resolution, and a unit left with a negative
            # margin would never trigger the next segment's event (it must cross from above)
            for k in range(2 * cd.N):
                margins = fld.margins(y, rho_of(t), code)
                j = int(np.argmin(margins))
                if k > 0 and margins[j] > 0:
                    break
                code, y = fld.switch(y, rho_of(t), code, j)
                events += 1


def _flat_decay(delta):
    """``e^{-delta}``: the flat-piece law ``t0 e^{-tau}`` of theory.closed_forms at ``t0 = 1``."""
    return ex.orthogonal_forms("exact").score["lower"](1.0, 1.0, 1.0, delta)


def _rho0_exact_continuation(cd, y, duration):
    """Exact rescaled score flow of the ``rho = 0`` denoiser from ``y`` for ``duration``."""
    run = ex.PiecewiseAffineScoreFlow(cd, 0.0).run(y[None], tau_end=duration)
    return run.Y[0], int(run.switches[0])


# ------------------------------------------------------------------------------------------------
# score flow
# ------------------------------------------------------------------------------------------------
def score_flow(dataset, y0, rho, *, model="exact", method="exact", times=None, rtol=1e-10,
               atol=None) -> FlowResult:
    """Rescaled score flow ``dy/dtau = h_rho(y) - y`` (eqs. 13-14) from ``y0``; endpoint
    ``tau -> oo``.  ``times`` (increasing, ``inf`` allowed) are the sample times of ``path``
    (default: ``[0, inf]``).  See the module docstring for methods and conventions."""
    _check_method(method)
    rho = check_radius(rho, "rho")
    rtol, atol = check_tolerances(rtol, atol)
    cd = _setup(dataset, model, rho)
    atol = _atol(cd, atol)
    y0 = as_point(y0, cd.d, "y0", "score_flow_batch")[None]
    times = _times(times) if times is not None else np.array([0.0, np.inf])
    all_times = np.append(times, np.inf) if times[-1] != np.inf else times
    if method == "exact":
        if _is_orthogonal(dataset):
            Y, sw = ex.orthogonal_score_flow(cd, y0, rho, all_times)
            path, end = Y[:len(times), 0], Y[-1, 0]
            return FlowResult("score", model, method, end, times, path, int(sw[0]),
                              "orthogonal closed forms (theory.closed_forms)")
        run = ex.PiecewiseAffineScoreFlow(cd, rho).run(y0, record=True)
        return FlowResult("score", model, method, run.Y[0], times, run.sample(0, times),
                          int(run.switches[0]), "exact piecewise-affine integration")
    tau_cap = TAU_CAP_FACTOR * max(1.0, float(np.max(cd.r)) / rho)
    finite = times[np.isfinite(times)]
    with _within_float64(y0[0]):
        y, samples, t_reached, events, settled = _integrate_ivp(
            cd, y0[0], t_span=(0.0, tau_cap), rho_of=lambda t: rho, sdot_of=lambda t: 1.0,
            s_of=lambda t: t, moving=False, rho_final=rho, rtol=rtol, atol=atol, t_eval=finite)
    if settled is not None and isinstance(settled[0], str):
        end, sw = _rho_exact(cd, rho, y)
        events += sw
        msg = (f"stationary on kinks at tau={settled[1]:.6g}; continued by the exact "
               "piecewise-affine flow")
        rest = None
    elif settled is not None:
        ystar, ta = settled
        end, msg = ystar, f"settled on flat pieces at tau={ta:.6g}; analytic endpoint"
        rest = lambda tt: ystar + (y - ystar) * _flat_decay(tt - ta)  # noqa: E731
    else:
        end, sw = _rho_exact(cd, rho, y)
        events += sw
        msg = f"not settled by tau={tau_cap:.6g}; continued by the exact piecewise-affine flow"
        rest = None
    path = []
    for tt in times:
        if np.isinf(tt):
            path.append(end)
        elif tt in samples:
            path.append(samples[tt])
        elif rest is not None:
            path.append(rest(tt))
        else:
            path.append(ex.PiecewiseAffineScoreFlow(cd, rho).run(y[None], tau_end=tt - t_reached).Y[0])
    return FlowResult("score", model, method, end, times, np.array(path), events, msg)


def _score_batch_ivp(dataset, cd, Y0, rho, model, rtol, atol):
    """Score-flow endpoints by :class:`numerics.batch_ivp.BatchFlow`, finished as in
    :func:`score_flow`: analytic flat-piece fixed point, exact continuation past ``TAU_CAP``,
    per-trajectory hand-off for sliding or stalled points."""
    from .batch_ivp import BatchFlow
    tau_cap = TAU_CAP_FACTOR * max(1.0, float(np.max(cd.r)) / rho)
    with _within_float64(Y0):
        out = BatchFlow(cd, rho, moving=False, rtol=rtol, atol=atol).run(Y0, tau_cap, rho)
    end = out["ystar"].copy()
    st = out["status"]
    cont = np.flatnonzero(st == "end")
    if cont.size:
        end[cont] = ex.PiecewiseAffineScoreFlow(cd, rho).run(out["Y"][cont]).Y
    for i in np.flatnonzero(st == "handoff"):
        end[i] = score_flow(dataset, out["Y"][i], rho, model=model, method="ivp", rtol=rtol,
                            atol=atol).endpoint
    return end


def _rho_exact(cd, rho, y):
    run = ex.PiecewiseAffineScoreFlow(cd, rho).run(y[None])
    return run.Y[0], int(run.switches[0])


def score_flow_batch(dataset, Y0, rho, *, model="exact", method="exact", rtol=1e-10,
                     atol=None) -> np.ndarray:
    """Score-flow endpoints (``tau -> oo``) of many initial points, shape ``(n, d)``.

    ``method="exact"``: vectorised over the points (orthogonal closed forms, or the exact
    piecewise-affine integrator for any ridge dataset); ``"ivp"``: the vectorised DOP853 of
    :mod:`numerics.batch_ivp` (the per-point path of :func:`score_flow` with ``method="ivp"``).
    """
    _check_method(method)
    rho = check_radius(rho, "rho")
    rtol, atol = check_tolerances(rtol, atol)
    cd = _setup(dataset, model, rho)
    atol = _atol(cd, atol)
    Y0 = as_batch(Y0, cd.d, "Y0")
    if method == "ivp":
        return _score_batch_ivp(dataset, cd, Y0, rho, model, rtol, atol)
    if _is_orthogonal(dataset):
        return ex.orthogonal_score_flow(cd, Y0, rho, (np.inf,))[0][0]
    return ex.PiecewiseAffineScoreFlow(cd, rho).run(Y0).Y


# ------------------------------------------------------------------------------------------------
# probability flow
# ------------------------------------------------------------------------------------------------
def _probability_setup(dataset, c, sigma_max, sigma_min, model, method):
    _check_method(method)
    c = _positive("c", c)
    sigma_max = _positive("sigma_max", sigma_max)
    sigma_min = _positive("sigma_min", sigma_min, allow_zero=True)
    if sigma_min >= sigma_max:
        raise OutOfRangeError(f"sigma_min must be below sigma_max = {sigma_max:g}, got "
                              f"{sigma_min:g}")
    rho0 = c * sigma_max
    if not math.isfinite(rho0) or rho0 < np.finfo(float).tiny:
        raise NotRepresentableError(f"rho_0 = c * sigma_max = {c:g} * {sigma_max:g} over- or "
                                    "underflows float64; pass c and sigma_max of moderate size")
    cd = _setup(dataset, model, rho0)
    s_end = math.log(sigma_max / sigma_min) if sigma_min > 0 else math.inf
    return cd, rho0, s_end


def probability_flow(dataset, y0, *, c, sigma_max, sigma_min=0.0, model="exact", method="exact",
                     times=None, rtol=1e-10, atol=None) -> FlowResult:
    """Probability flow in log-noise time (eq. 12): ``dy/ds = h_{rho(s)}(y) - y``,
    ``rho(s) = c sigma_max e^{-s}``, ``s in [0, ln(sigma_max/sigma_min)]``.

    ``rho_0 = c sigma_max`` must be in the low-noise regime.  The endpoint is the state at
    ``sigma_min`` (the limit ``s -> oo`` when ``sigma_min = 0``).  ``times`` are values of ``s``
    (default ``[0, s_end]``).  ``method="exact"`` needs orthogonal data.
    """
    cd, rho0, s_end = _probability_setup(dataset, c, sigma_max, sigma_min, model, method)
    rtol, atol = check_tolerances(rtol, atol)
    atol = _atol(cd, atol)
    y0 = as_point(y0, cd.d, "y0", "probability_flow_batch")[None]
    times = _times(times) if times is not None else np.array([0.0, s_end])
    if np.any(times > s_end):
        raise OutOfRangeError(f"times go beyond s_end = ln(sigma_max/sigma_min) = {s_end:g}")
    if method == "exact":
        _require_orthogonal(dataset)
        Y, sw = ex.orthogonal_probability_flow(cd, y0, rho0, np.append(times, s_end))
        return FlowResult("probability", model, method, Y[-1, 0], times, Y[:-1, 0], int(sw[0]),
                          "orthogonal closed forms (theory.closed_forms)")
    end, path, events, msg = _probability_ivp(
        cd, y0[0], rho0, s_end, times, t_span=None, rho_of=lambda s: rho0 * math.exp(-s),
        sdot_of=lambda s: 1.0, s_of=lambda s: s, rtol=rtol, atol=atol)
    return FlowResult("probability", model, method, end, times, path, events, msg)


def _require_orthogonal(dataset):
    if not _is_orthogonal(dataset):
        raise UnknownChoiceError("method='exact' for the probability flow needs orthogonal data (per-"
                         f"coordinate closed forms); this dataset is {dataset.kind}: use method='ivp'")


def _probability_ivp(cd, y0, rho0, s_end, s_times, *, t_span, rho_of, sdot_of, s_of, rtol, atol,
                     t_times=None, t_of_s=None):
    """Shared driver of the probability flow in ``s`` (``t_span=None``) or an original time."""
    rmin = float(np.min(cd.r))
    s_final = math.log(rho0 / (FINAL_RHO * rmin))
    s_stop = min(s_end, s_final)
    if t_span is None:
        span, evals = (0.0, s_stop), s_times[np.isfinite(s_times)]
    else:
        span, evals = (t_span[0], t_of_s(s_stop)), t_times
    with _within_float64(y0):
        y, samples, t_reached, events, settled = _integrate_ivp(
            cd, y0, t_span=span, rho_of=rho_of, sdot_of=sdot_of, s_of=s_of, moving=True,
            rho_final=rho0 * math.exp(-s_end) if math.isfinite(s_end) else 0.0, rtol=rtol, atol=atol,
            t_eval=evals)
    s_reached = s_of(t_reached)
    if settled is not None and isinstance(settled[0], str):
        end, msg = y, f"stationary on kinks from s={settled[1]:.6g} (switching stalled)"
        rest = lambda ss: y  # noqa: E731
    elif settled is not None:
        ystar, sa = settled
        end = ystar + (y - ystar) * _flat_decay(s_end - sa)
        msg = f"settled on flat pieces at s={sa:.6g}; analytic endpoint"
        rest = lambda ss: ystar + (y - ystar) * _flat_decay(ss - sa)  # noqa: E731
    elif s_end > s_stop:
        end, sw = _rho0_exact_continuation(cd, y, s_end - s_stop)
        events += sw
        msg = (f"integrated to rho = {FINAL_RHO:g} min r (s={s_stop:.6g}); continued exactly "
               "with the rho = 0 denoiser")
        rest = lambda ss: _rho0_exact_continuation(cd, y, ss - s_reached)[0]  # noqa: E731
    else:
        end, msg, rest = y, "integrated to s_end", None
    keys = s_times if t_span is None else t_times
    path = []
    for k, key in enumerate(keys):
        ss = s_times[k]
        if key in samples:
            path.append(samples[key])
        elif np.isinf(ss) or ss >= s_end:
            path.append(end)
        else:
            path.append(rest(ss))
    return end, np.array(path), events, msg


def probability_flow_original_time(dataset, y0, *, c, schedule, sigma_max, sigma_min=0.0,
                                   model="exact", t_eval=None, rtol=1e-10,
                                   atol=None) -> FlowResult:
    """Probability flow in the original time of a schedule (eq. 11, variance exploding):
    ``dx/dt = -(sigma'(t)/sigma(t)) (D_{sigma(t)}(x) - x)``, ``D_sigma = h_{c sigma}``.

    ``schedule="edm"``: ``sigma(t) = t``, ``t`` from ``sigma_max`` down to ``sigma_min`` (``0``
    allowed: the flow reaches ``sigma = 0`` at a finite time, footnote 4); ``"geometric"``:
    ``sigma(t) = sigma_max (sigma_min/sigma_max)^t``, ``t in [0, 1]``, needs ``sigma_min > 0``
    (:mod:`numerics.schedules`).  ``t_eval`` are original times; the result's ``times`` are the
    matching ``s = ln(sigma_max/sigma(t))`` and ``original_times`` the ``t``.  Always ``solve_ivp``.
    """
    from . import schedules as sch
    cd, rho0, s_end = _probability_setup(dataset, c, sigma_max, sigma_min, model, "ivp")
    rtol, atol = check_tolerances(rtol, atol)
    atol = _atol(cd, atol)
    y0 = as_point(y0, cd.d, "y0")[None]
    sched = sch.make_schedule(schedule, sigma_max, sigma_min)
    if t_eval is None:
        t_eval = np.array([sched.t_start, sched.t_end])
    t_eval = np.atleast_1d(as_float_array(t_eval, "t_eval"))
    if t_eval.ndim != 1 or t_eval.size == 0:
        raise ShapeError(f"t_eval must be a non-empty 1-d list of times, got shape {t_eval.shape}")
    if np.any(~np.isfinite(t_eval)) or np.any(sched.sign * np.diff(t_eval) < 0):
        raise OutOfRangeError(f"t_eval must be finite and run from t={sched.t_start} to "
                              f"t={sched.t_end}")
    if np.any(sched.sign * (t_eval - sched.t_start) < 0) or np.any(sched.sign * (t_eval - sched.t_end) > 0):
        raise OutOfRangeError(f"t_eval must lie between t={sched.t_start} and t={sched.t_end}")
    s_times = np.array([sched.s_of_t(t) for t in t_eval])
    # stage A in original time down to rho = DEAD_BAND min r (below it sigma(t) is too close to
    # float64's resolution of t for a step controller); stage B, the same ODE in s from there
    s_switch = min(s_end, math.log(rho0 / (DEAD_BAND * float(np.min(cd.r)))))
    in_a = s_times <= s_switch
    end, path_a, events, msg = _probability_ivp(
        cd, y0[0], rho0, s_switch, s_times[in_a], t_span=(sched.t_start, sched.t_end),
        rho_of=lambda t: c * sched.sigma(t), sdot_of=sched.ds_dt, s_of=sched.s_of_t,
        rtol=rtol, atol=atol, t_times=t_eval[in_a], t_of_s=sched.t_of_s)
    path = list(path_a)
    if s_end > s_switch:
        rho_b = rho0 * math.exp(-s_switch)
        s_b = s_times[~in_a] - s_switch
        end, path_b, ev_b, msg_b = _probability_ivp(
            cd, end, rho_b, s_end - s_switch, s_b, t_span=None,
            rho_of=lambda s: rho_b * math.exp(-s), sdot_of=lambda s: 1.0, s_of=lambda s: s,
            rtol=rtol, atol=atol)
        path += list(path_b)
        events += ev_b
        msg = f"original time to s={s_switch:.6g}, then log-noise time: {msg_b}"
    return FlowResult("probability", model, "ivp", end, s_times, np.array(path), events,
                      f"{schedule} schedule; " + msg, original_times=t_eval)


def probability_flow_batch(dataset, Y0, *, c, sigma_max, sigma_min=0.0, model="exact",
                           method="exact", rtol=1e-10, atol=None) -> np.ndarray:
    """Probability-flow endpoints of many initial points, shape ``(n, d)``.

    ``method="exact"`` (orthogonal data): the closed forms, vectorised over points and
    coordinates; ``"ivp"``: the vectorised DOP853 of :mod:`numerics.batch_ivp` (the per-point
    path of :func:`probability_flow` with ``method="ivp"``), any dataset.
    """
    cd, rho0, s_end = _probability_setup(dataset, c, sigma_max, sigma_min, model, method)
    rtol, atol = check_tolerances(rtol, atol)
    atol = _atol(cd, atol)
    Y0 = as_batch(Y0, cd.d, "Y0")
    if method == "exact":
        _require_orthogonal(dataset)
        return ex.orthogonal_probability_flow(cd, Y0, rho0, (s_end,))[0][0]
    from .batch_ivp import BatchFlow
    rmin = float(np.min(cd.r))
    s_stop = min(s_end, math.log(rho0 / (FINAL_RHO * rmin)))
    rho_final = rho0 * math.exp(-s_end) if math.isfinite(s_end) else 0.0
    with _within_float64(Y0):
        out = BatchFlow(cd, rho0, moving=True, rtol=rtol, atol=atol).run(Y0, s_stop, rho_final)
    st, Y, s = out["status"], out["Y"], out["t"]
    end = Y.copy()
    settled = st == "settled"
    if settled.any():  # flat-piece law y* + (y - y*) e^{-(s_end - s)}, exact
        ys = out["ystar"][settled]
        end[settled] = ys + (Y[settled] - ys) * _flat_decay(s_end - s[settled])[:, None]
    cont = np.flatnonzero(st == "end")
    if cont.size and s_end > s_stop:  # below FINAL_RHO min r: exactly, the rho = 0 denoiser
        end[cont] = ex.PiecewiseAffineScoreFlow(cd, 0.0).run(Y[cont], tau_end=s_end - s_stop).Y
    for i in np.flatnonzero(st == "handoff"):
        rho_i = rho0 * math.exp(-s[i])
        end[i] = _probability_ivp(
            cd, Y[i], rho_i, s_end - s[i], np.array([0.0]), t_span=None,
            rho_of=lambda ss, r_=rho_i: r_ * math.exp(-ss), sdot_of=lambda ss: 1.0,
            s_of=lambda ss: ss, rtol=rtol, atol=atol)[0]
    return end
