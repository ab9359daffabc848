"""A conjecture that is FALSE: "the probability flow always ends at a hyperbox vertex".

Run it with ``proofs-check run --file examples/claims/false_claim.py``: Hypothesis finds a start
whose probability flow stops short of every vertex and shrinks it to a small counterexample (the
guide ``docs/conjectures.md`` shows the output).  ``corrected_claim.py`` is the corrected claim
(Thm 4.4: a vertex only when ``c > c_0``).
"""
from hypothesis import strategies as st

from numerics.flows import probability_flow
from numerics.geometry import nearest_vertex
from proofs_check import instances, strategies
from proofs_check.registry import Margin, Statement

#: "Ends at a vertex" means within this distance of one, relative to the data scale max r_n: the
#: exact integrator is accurate to ~1e-14 relative, so 1e-9 leaves a factor 1e5.
AT_VERTEX_RTOL = 1e-9
#: The noise level the flow starts from (any value works: the claim is about every c).
SIGMA_MAX = 1.0


@st.composite
def probability_flow_starts(draw):
    """Orthogonal data (N <= 2, d <= N + 1), c in the low-noise regime, a start whose
    coordinates t_n lie in [-r_n/2, 3 r_n/2] (around and inside the hyperbox)."""
    ds = draw(strategies.orthogonal_datasets(max_N=2, extra_dims=1))
    c_max = min(float(r) for r in ds.r) / (2 * SIGMA_MAX)  # the low-noise regime: rho_0 < r/2
    c = c_max * draw(st.floats(0.05, 0.95))
    t = [float(r) * draw(st.floats(-0.5, 1.5)) for r in ds.r]
    y0 = draw(instances.point_from_coordinates(ds, t))
    return instances.Instance(ds, "exact", flow="probability", c=c, sigma_max=SIGMA_MAX, y0=y0)


def check_ends_at_vertex(instance) -> Margin:
    """Margin: (AT_VERTEX_RTOL scale - distance of the endpoint to the nearest vertex) / scale."""
    ds = instance.dataset
    scale = max(float(r) for r in ds.r)
    res = probability_flow(ds, instance.y0_array(), c=instance.c, sigma_max=instance.sigma_max)
    _, dist = nearest_vertex(ds, res.endpoint[None, :])
    return Margin.from_absolute(AT_VERTEX_RTOL * scale - float(dist[0]), scale,
                                detail={"endpoint": res.endpoint.tolist(),
                                        "vertex_distance": float(dist[0])},
                                flows_command=instance.flows_command())


ends_at_vertex = Statement(
    id="my-flow-ends-at-vertex",
    title="The probability flow always ends at a hyperbox vertex",
    source="a conjecture (false: compare Thm 4.4)",
    statement="For orthogonal data and every c in the low-noise regime, the probability flow "
              "(sigma_min = 0) from any start ends at a vertex of the hyperbox.",
    hypotheses="Orthogonal data, N <= 2; c in (0.05, 0.95) c_max; start coordinates in "
               "[-r_n/2, 3 r_n/2].",
    method="Integrate with the exact integrator; distance of the endpoint to the nearest vertex.",
    strategy=probability_flow_starts,
    check=check_ends_at_vertex,
)
