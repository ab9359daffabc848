"""Test configuration: Hypothesis profiles and the ``slow`` marker.

Profiles (choose with ``--hypothesis-profile NAME`` or ``HYPOTHESIS_PROFILE=NAME``):
``ci`` (default; sized so the whole suite stays well under CI's time), ``dev`` (a few more
examples), ``thorough`` (deep runs, with ``--runslow``).  Seeds are derandomised under ``ci`` so
a CI failure reproduces exactly.
"""
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True, print_blob=True,
    # dataset strategies build SymPy objects: slow per draw, not a test problem
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=60, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run tests marked slow (exhaustive checks)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
