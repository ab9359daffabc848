"""The paper's experiments with analytic denoisers (paper §5, App. E-J; docs/math.md §6).

One module per experiment, each with ``run(out_dir, *, seed, <sizes>, progress=True,
workers=None, scheduler=None) -> dict`` writing ``results.json`` and PNG figure(s) into
``out_dir``:

====================  =========================================  =============================
command name          module                                     paper
====================  =========================================  =============================
virtual-stability     :mod:`.virtual_stability`                  Fig. 1 (App. E Fig. 6)
endpoints             :mod:`.endpoints`                          Fig. 2 (App. E Figs. 7-10)
n-sweep               :mod:`.n_sweep`                            Fig. 3
score-fields          :mod:`.score_fields`                       Figs. 4, 5, 15
taylor-vs-exact       :mod:`.taylor_vs_exact`                    Fig. 16
early-stopping-map    :mod:`.early_stopping_map`                 Thm 4.4
score-smoothing       :mod:`.score_smoothing`                    Chen 2025 (other models)
model-comparison      :mod:`.model_comparison`                   all score models, one data set
====================  =========================================  =============================

With trained denoisers (the ``train`` extra): ``trained-virtual-stability``
(:mod:`.trained_virtual_stability`, Fig. 1), ``sampling-relaxation``
(:mod:`.sampling_relaxation`, the sampled ball constraint) and the five experiments on the
trained Fig. 2 set-up of :mod:`._fig2` (a stack of denoisers over noise levels, cached on disk):

====================  =========================================  =============================
trained-endpoints     :mod:`.trained_endpoints`                  Fig. 2 (App. E Figs. 7-10)
trained-n-sweep       :mod:`.trained_n_sweep`                    Fig. 3
training-protocols    :mod:`.training_protocols`                 App. F Fig. 11, App. H Fig. 14
augmented-hyperbox    :mod:`.augmented_hyperbox`                 App. G Table 1
memorization-metrics  :mod:`.memorization_metrics`               App. I Table 2
====================  =========================================  =============================

``QUICK`` holds the tiny configurations used by ``flows experiment NAME --quick`` and the tests.
Modules are imported on first use (:func:`get`), so importing this package is cheap.

Adding an experiment
--------------------
1. Write ``numerics/experiments/my_experiment.py`` with ``run(out_dir, *, seed=0, <sizes with
   defaults>, progress=True, workers=None, scheduler=None) -> dict`` that writes
   ``results.json`` (:func:`._runtime.write_results`) and its figures
   (:func:`._runtime.save_figure`; shared drawing in :mod:`numerics.plotting`) and returns the
   results with a ``"figures"`` list of file names.
2. Register it: ``EXPERIMENTS["my-experiment"] = "my_experiment"`` and tiny sizes in ``QUICK``.
3. Optional but expected: a ``PARAMETERS`` table (:mod:`.parameters`) — every entry becomes an
   option of ``flows experiment my-experiment`` with its default from ``run`` and a line in
   ``--help``::

       PARAMETERS = {"N": (int, "number of training points"),
                     "cs": (float_list, "values of c, comma list"),
                     "norm": (str, "distance", ("l2", "linf"))}

   and ``summary(results) -> list[str]``, the headline numbers the command prints after the run.
   Without them the command still works, with the common options only
   (``--out --seed --quick --workers --scheduler --no-progress --json``) and no summary.
"""
from __future__ import annotations

import importlib

#: Command name -> module name.
EXPERIMENTS = {
    "virtual-stability": "virtual_stability",
    "endpoints": "endpoints",
    "n-sweep": "n_sweep",
    "score-fields": "score_fields",
    "taylor-vs-exact": "taylor_vs_exact",
    "early-stopping-map": "early_stopping_map",
    "score-smoothing": "score_smoothing",
    "model-comparison": "model_comparison",
    "trained-virtual-stability": "trained_virtual_stability",
    "sampling-relaxation": "sampling_relaxation",
    "trained-endpoints": "trained_endpoints",
    "trained-n-sweep": "trained_n_sweep",
    "training-protocols": "training_protocols",
    "augmented-hyperbox": "augmented_hyperbox",
    "memorization-metrics": "memorization_metrics",
}

#: Experiments that train a network (need the ``train`` extra; tested in tests/test_premise.py).
TRAINED = frozenset({"trained-virtual-stability", "sampling-relaxation", "trained-endpoints",
                     "trained-n-sweep", "training-protocols", "augmented-hyperbox",
                     "memorization-metrics"})

#: Tiny trained Fig. 2 set-up (docs: numerics/experiments/_fig2.py) shared by the ``--quick``
#: runs of the trained Fig. 2 experiments: N = d = 4, 3 + 3 levels, seconds of training.
_QUICK_FIG2 = dict(n_points=40, sigma_max=4.0, n_outside=3, n_inside=3, samples=4,
                   outer_steps=3, inner_steps=100, steps=300)

#: Tiny sizes (seconds each): smoke runs, tests, ``--quick``.
QUICK = {
    "virtual-stability": dict(N=8, orders=(2, 3, 4), sweep=(0.0, 0.02), n_draws=1),
    "endpoints": dict(N=6, n_points=24, c_sweep=(1.0,), c_fractions=(0.2, 0.6, 0.95), n_high=60,
                      n_low=10),
    "n-sweep": dict(Ns=(6, 3), d=6, n_points=24, n_high=60, n_low=10),
    "score-fields": dict(n_grid=9, tau_max=20.0),
    "taylor-vs-exact": dict(rho0_sweep=(0.01, 0.1), n_times=60),
    "early-stopping-map": dict(n_grid=15, cs=(0.1, 0.4)),
    "score-smoothing": dict(n_samples=150, deltas=(0.05, 0.3), steps=25),
    "model-comparison": dict(N=8, n_samples=60, n_reference=120, steps=25),
    # the two training experiments need the 'train' extra (JAX); seconds of training each
    "trained-virtual-stability": dict(N=6, samples=20, hyper=dict(outer_steps=8,
                                                                  inner_steps=300)),
    "sampling-relaxation": dict(Ms=(2, 8, 32), Ms_d30=(2, 8), N30=3, hyper=dict(outer_steps=8,
                                                                  inner_steps=300)),
    "trained-endpoints": dict(N=4, score_steps=10, **_QUICK_FIG2),
    "trained-n-sweep": dict(Ns=(4, 2), d=4, **_QUICK_FIG2),
    "training-protocols": dict(N=4, **_QUICK_FIG2),
    "augmented-hyperbox": dict(N=4, augment=(0, 3), **_QUICK_FIG2),
    "memorization-metrics": dict(N=4, n_reference=200, **_QUICK_FIG2),
}


def get(name: str):
    """The module of experiment ``name`` (a key of :data:`EXPERIMENTS`)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)}")
    return importlib.import_module(f"{__name__}.{EXPERIMENTS[name]}")


def run(name: str, out_dir, *, quick: bool = False, **options) -> dict:
    """Run experiment ``name`` into ``out_dir`` (``quick``: the :data:`QUICK` sizes, which
    explicit ``options`` override)."""
    sizes = dict(QUICK.get(name, {})) if quick else {}
    sizes.update(options)
    return get(name).run(out_dir, **sizes)


__all__ = ["EXPERIMENTS", "QUICK", "TRAINED", "get", "run"]
