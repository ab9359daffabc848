"""Noisy training samples and seeded initialisations (NumPy only; docs/training.md).

The training set of one noise level is ``M`` noisy copies of every training point ``x_n``:

* ``noise="ball"``: ``y = x_n + rho * U^(1/d) * e`` with ``e`` uniform on the unit sphere and ``U``
  uniform on ``[0, 1]`` -- uniform in the ball ``B(x_n, rho)`` of the interpolation constraint
  (paper eq. 8, docs/math.md §1);
* ``noise="gaussian"``: ``y = x_n + sigma * eps``, ``eps ~ N(0, I)`` (the noise model of eq. 3).

By default the centre ``x_n`` itself is added to its samples (``include_centre=True``): it lies in
every ball, and a trained denoiser that does not return the training points exactly could not
have them as stationary points (the flows of docs/math.md §3 start from there), so it is always
constrained.  The target of every sample is its centre ``x_n``.

Every random draw comes from ``numpy.random.default_rng([seed, level, stream])``: the samples
(``stream 0``) and the initial parameters (``stream 1``) of a level depend only on the seed and
the level's index, so level ``i`` of a stack and a single denoiser trained with the same seed at
``i = 0`` start from the same samples and weights.
"""
from __future__ import annotations

import numpy as np

from theory.errors import InputError

NOISES = ("ball", "gaussian")

#: Standard deviation of the initial output weights ``a_k``, relative to the data scale: small, so
#: that the initial function is close to the affine part ``V y + c`` and no unit starts with a
#: large cost (eq. 5).
INIT_OUTPUT_SCALE = 0.1


def level_rng(seed: int, level: int, stream: int) -> np.random.Generator:
    """The generator of one ``(seed, level, stream)`` (see the module docstring)."""
    return np.random.default_rng([int(seed), int(level), int(stream)])


def noisy_samples(X: np.ndarray, scale: float, M: int, noise: str, rng: np.random.Generator,
                  include_centre: bool = True, boundary: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Samples ``Y`` and targets ``T`` (both ``(n_points * (M + boundary + include_centre), d)``,
    grouped by training point) for radius ``scale = rho`` (``noise="ball"``) or ``scale = sigma``
    (``"gaussian"``).  ``boundary`` extra samples per point lie on the sphere ``|y - x_n| = rho``
    (ball noise only): a constraint on ``M`` uniform samples is weaker than the ball's, most at
    its rim (the kinks of the closed form sit at the rim), and sphere points tighten exactly
    that."""
    if noise not in NOISES:
        raise InputError(f"noise must be one of {', '.join(NOISES)}, got {noise!r}")
    if boundary and noise != "ball":
        raise InputError("boundary samples exist for ball noise only (noise='ball')")
    n, d = X.shape
    if noise == "ball":
        e = rng.standard_normal((n, M, d))
        e /= np.linalg.norm(e, axis=2, keepdims=True)
        Y = X[:, None, :] + e * (scale * rng.uniform(size=(n, M, 1)) ** (1.0 / d))
        if boundary:
            e = rng.standard_normal((n, boundary, d))
            e /= np.linalg.norm(e, axis=2, keepdims=True)
            Y = np.concatenate([Y, X[:, None, :] + scale * e], axis=1)
    else:
        Y = X[:, None, :] + scale * rng.standard_normal((n, M, d))
    if include_centre:
        Y = np.concatenate([X[:, None, :], Y], axis=1)
    T = np.broadcast_to(X[:, None, :], Y.shape)
    return Y.reshape(-1, d).copy(), T.reshape(-1, d).copy()


def initial_parameters(X: np.ndarray, Y: np.ndarray, K: int, rng: np.random.Generator) -> dict:
    """Seeded initial parameters of eq. 4: unit input weights ``w_k`` uniform on the sphere, each
    ReLU boundary through a random noisy sample (``b_k = -w_k^T y``, so every unit starts active
    on part of the data), output weights ``a_k ~ N(0, (0.1 s)^2)`` with ``s`` the data scale,
    ``V = 0`` and ``c`` the data mean."""
    n, d = X.shape
    W = rng.standard_normal((K, d))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    b = -np.einsum("kd,kd->k", W, Y[rng.integers(0, Y.shape[0], size=K)])
    s = max(float(np.max(np.linalg.norm(X - X.mean(axis=0), axis=1))), 1e-12)
    A = INIT_OUTPUT_SCALE * s * rng.standard_normal((K, d))
    return {"A": A, "W": W, "b": b, "V": np.zeros((d, d)), "c": X.mean(axis=0).copy()}
