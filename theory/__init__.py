"""Symbolic theory layer (SymPy only): datasets, closed-form min-cost denoisers, score models,
closed-form flow solutions, stationary points and stability, derivations.

The single source of truth for every formula of docs/math.md; :mod:`numerics` compiles from here.
"""
from .closed_forms import (c0_coordinate, c0_threshold, lemma_d3, lemma_d4, probability_flow_limit,
                           probability_flow_piece, rescaled_time, rho_of_s, score_flow_piece,
                           tau_exit)
from .datasets import (GEOMETRY_RTOL, Dataset, EquilateralTriangle, ObtuseSimplex,
                       OrthogonalDataset, RidgeDataset, from_json, make_dataset)
from .denoisers import (RHO, ActivationRegion, RidgeDenoiser, equilateral_rho_star,
                        min_cost_denoiser, y_symbols)
from .errors import (BallsOverlapError, DuplicatePointError, InputError, LowNoiseError,
                     NonFiniteError, NotEquilateralError, NotMinimalWarning, NotObtuseError,
                     NotOrthogonalError, NotSimplexError, ShapeError)
from .network import ShallowReLUNetwork
from .scores import SCORE_MODELS, ScoreModel, score_expression
from .geometry import (box_coordinates, closest_coordinates, closest_point, closest_point_class,
                       closest_point_is_vertex, closest_vertex, dist_to_boundary,
                       dist_to_hyperbox, hyperbox_vertices)
from .stationary import (DegenerateStationarySetError, StationaryPoint, degenerate_rhos,
                         stable_points, stationary_points, thm_4_2_set, thm_b1_criterion,
                         thm_b1_set)
from .pieces import MODELS, PIECES, UnitPieces, phi, unit_pieces

__all__ = [name for name in dir() if not name.startswith("_")]
