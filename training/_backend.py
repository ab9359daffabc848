"""The one place that imports JAX and optax (only when a training function is called)."""
from __future__ import annotations

from theory.errors import MissingExtraError

#: One line naming the extra; the command is run in the repository's root (the README's install).
MISSING_MESSAGE = ("training needs JAX and optax, the 'train' extra: "
                   "pip install -e \".[train]\" in the repository's root")


def load():
    """``(jax, jax.numpy, optax)`` with float64 enabled, or :class:`MissingExtraError`."""
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError:
        raise MissingExtraError(MISSING_MESSAGE) from None
    # every array of this package is float64 (the constraints are checked to 1e-4 of the data
    # scale and compared with closed forms to 1e-2; float32 would leave ~1e-7 relative noise in
    # the residuals and in the costs, and the paper's protocol is float64)
    jax.config.update("jax_enable_x64", True)
    return jax, jnp, optax
