from .classify import CLASSES, Classification, classify, default_threshold
from .geometry import (NORMS, distance_to_boundary, distance_to_chords, distance_to_edges,
                       distance_to_hyperbox, hyperbox, hyperbox_closest_point, nearest_vertex)
from .threshold import NoThresholdError, ThresholdResult, c0_bisection, c0_closed_form
from .mmse import MMSEDenoiser, mmse_denoise
from .exact import PiecewiseAffineScoreFlow, orthogonal_probability_flow, orthogonal_score_flow
from .flows import (FlowResult, probability_flow, probability_flow_batch,
                    probability_flow_original_time, score_flow, score_flow_batch)
from .schedules import (closed_form_denoiser_at, edm_sigma, edm_sigmas, euler_probability_flow,
                        geometric_sigmas, make_schedule, score_flow_iterations)
