"""``trained``: a trained shallow ReLU denoiser (eq. 4) or a stack of them over noise levels
(eq. 20), from a network file (:mod:`numerics.network`).

**Which network at which sigma.**  A single-level file is used at every ``sigma`` (the network was
trained at one noise radius; the score flow of eq. 21 and a probability flow with a frozen
denoiser use it so).  A stack with levels ``sigma_1, ..., sigma_L`` uses at ``sigma`` the level
nearest in log-noise, ``argmin_i |ln sigma - ln sigma_i|`` (ties: the larger level); on a grid
equal to the stack's levels (the Euler flow of eq. 20) each step therefore uses its own network.
"""
from __future__ import annotations

import numpy as np

from ..network import NetworkStack, check_trained_on, load_network
from .base import Denoiser, ModelParameterError


class TrainedDenoiser(Denoiser):
    """A :class:`numerics.network.NetworkStack` as a denoiser (module docstring)."""

    name = "trained"

    def __init__(self, dataset, net):
        path = None
        if not isinstance(net, NetworkStack):
            if not isinstance(net, (str, bytes)) and not hasattr(net, "__fspath__"):
                raise ModelParameterError(f"net must be a NetworkStack or a network file path, "
                                          f"got {type(net).__name__}")
            path = str(net)
            net = load_network(path)
        if dataset is not None:
            check_trained_on(net, dataset, net_name=path or "the network")
        self.stack = net
        self.levels = np.asarray(net.sigmas, dtype=float)
        params = {"levels": [float(s) for s in self.levels]}
        if path is not None:
            params["net"] = path
        for key in ("protocol", "seed"):
            if key in net.metadata:
                params[key] = net.metadata[key]
        super().__init__(net.d, params, dataset)

    def level_index(self, sigma: float) -> int:
        """Index of the level used at ``sigma`` (module docstring)."""
        if self.levels.size == 1:
            return 0
        gap = np.abs(np.log(self.levels) - np.log(sigma))
        best = np.flatnonzero(gap <= gap.min() * (1 + 1e-12) + 1e-15)
        return int(best[np.argmax(self.levels[best])])

    def network_at(self, sigma: float):
        return self.stack.networks[self.level_index(sigma)]

    def denoise(self, Y, sigma):
        return self.network_at(sigma)(Y)

    def jacobian(self, Y, sigma):
        from .base import check_sigma
        return self.network_at(check_sigma(sigma)).jacobian(Y)
