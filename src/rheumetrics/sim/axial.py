"""Axial spondyloarthritis visits: latent axial inflammation to the ASDAS-CRP items and ASDAS-CRP.

The latent level (``Cohort.synovitis``, here axial inflammation on the 0-10 scale of the BASDAI
items) evolves as in :func:`rheumetrics.sim.disease.month`. A visit records back pain (BASDAI
question 2), duration of morning stiffness (question 6), patient global (0-10) and peripheral
pain/swelling (question 3), each the inflammation times its weight (back pain and patient global
plus the patient's non-inflammatory pain) with normal visit-to-visit variation, rounded to 0.1 and
kept in 0-10; CRP is lognormal, rising with inflammation. ASDAS-CRP is computed by
:func:`rheumetrics.measures.asdas_crp` (Lukas C et al. Ann Rheum Dis 2009;68:18-24). The weights
are assumptions listed, with their ranges, in the ``[axspa]`` section of the parameter file.
"""

from __future__ import annotations

import numpy as np

from rheumetrics.measures import asdas_crp
from rheumetrics.sim.disease import Cohort, Observed
from rheumetrics.sim.parameters import Parameters
from rheumetrics.sim.streams import Streams


def _item(level: np.ndarray, sd: float, rng: Streams) -> np.ndarray:
    return np.clip(np.round(level + rng.normal(0.0, sd), 1), 0.0, 10.0)


def observe_axial(c: Cohort, p: Parameters, rng: Streams) -> Observed:
    """The ASDAS-CRP items, CRP, ASDAS-CRP and radiographic sacroiliitis at a visit."""
    a = p.axspa
    sd = a.item_sd.value
    inflammation = c.synovitis
    back = _item(a.back_pain_per_inflammation.value * inflammation + c.pain, sd, rng)
    stiffness = _item(a.stiffness_per_inflammation.value * inflammation, sd, rng)
    ptga = _item(a.ptga_per_inflammation.value * inflammation + c.pain, sd, rng)
    peripheral = _item(a.peripheral_per_inflammation.value * inflammation, sd, rng)
    log_crp = (
        np.log(a.crp_median_quiet_mg_l.value)
        + a.crp_per_inflammation.value * inflammation
        + rng.normal(0.0, a.crp_sdlog.value)
    )
    crp = np.round(np.minimum(np.exp(log_crp), 500.0), 1)
    asdas = np.asarray(
        asdas_crp(
            basdai_q2=back, basdai_q6=stiffness, ptga=ptga, basdai_q3=peripheral, crp_mg_l=crp
        ),
        dtype=float,
    )
    columns = {
        "basdai_q2": back,
        "basdai_q6": stiffness,
        "ptga": ptga,
        "basdai_q3": peripheral,
        "crp_mg_l": crp,
        "asdas_crp": asdas,
        "radiographic_sacroiliitis": c.sacroiliitis.astype(bool),
    }
    return Observed(columns, asdas)
