"""The corrected conjecture (Thm 4.4): the probability flow ends in the hyperbox, and at its
closest vertex when ``c > c_0``.

``false_claim.py`` claimed a vertex for every ``c``; its counterexample starts inside the box
with ``c`` below the early-stopping threshold ``c_0``.  Run both with
``proofs-check run --file examples/claims/false_claim.py --file examples/claims/corrected_claim.py``.
"""
import false_claim  # a sibling file: its folder is importable while proofs-check loads this one
from numerics.flows import probability_flow
from numerics.geometry import distance_to_hyperbox, nearest_vertex
from numerics.threshold import c0_closed_form
from proofs_check.registry import Margin, Statement, combine

#: As in the false claim: "at a vertex" / "in the box" within 1e-9 of the data scale.
RTOL = false_claim.AT_VERTEX_RTOL


def check_vertex_iff_above_c0(instance) -> Margin:
    """Components, each an error over its tolerance ``RTOL scale`` (1: exact, 0: at the
    tolerance): ``in_box = 1 - dist(end, box) / (RTOL scale)`` always, and ``at_vertex = 1 -
    dist(end, vertices) / (RTOL scale)`` when there is no threshold or ``c > c_0``."""
    ds = instance.dataset
    scale = max(float(r) for r in ds.r)
    y0 = instance.y0_array()
    res = probability_flow(ds, y0, c=instance.c, sigma_max=instance.sigma_max)
    end = res.endpoint[None, :]
    c0 = c0_closed_form(ds, y0, instance.sigma_max, "exact").c0
    tol = RTOL * scale
    components = {"in_box": 1 - float(distance_to_hyperbox(ds, end)[0]) / tol}
    if c0 is None or instance.c > c0:
        components["at_vertex"] = 1 - float(nearest_vertex(ds, end)[1][0]) / tol
    value, worst = combine(components)
    return Margin(value, detail={"components": components, "worst": worst, "c0": c0,
                                 "endpoint": res.endpoint.tolist()},
                  flows_command=instance.flows_command(), scale=scale)


vertex_iff_above_c0 = Statement(
    id="my-flow-vertex-iff-above-c0",
    title="The probability flow ends in the hyperbox, at a vertex when c > c_0",
    source="a conjecture, corrected (Thm 4.4)",
    statement="For orthogonal data the probability flow (sigma_min = 0) ends in the closed "
              "hyperbox, and at its closest vertex when there is no threshold or c > c_0.",
    hypotheses=false_claim.ends_at_vertex.hypotheses,
    method="Integrate with the exact integrator; distances of the endpoint to the box and to the "
           "nearest vertex; c_0 from numerics.threshold.c0_closed_form.",
    strategy=false_claim.probability_flow_starts,
    check=check_vertex_iff_above_c0,
)
