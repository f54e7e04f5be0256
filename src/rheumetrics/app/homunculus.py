"""Where each of the 68 joints sits on the homunculus (front view, patient's right on the left).

Coordinates are for a 400 x 560 SVG; the patient's left side mirrors the right (``x -> 400 - x``).
Joint ids and names come from the joint catalogue (:data:`rheumetrics.joints.JOINTS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rheumetrics.joints import JOINTS

WIDTH, HEIGHT = 400, 560

_RIGHT: dict[str, tuple[float, float]] = {
    "TMJ": (184, 52), "SC": (186, 112), "AC": (146, 110), "SHOULDER": (128, 124),
    "ELBOW": (104, 204), "WRIST": (86, 276),
    "HIP": (166, 300), "KNEE": (160, 400), "ANKLE": (158, 478), "TARSUS": (158, 494),
}  # fmt: skip
# hand below the wrist: digit 1 (thumb) lateral, 5 medial; rows MCP, PIP (thumb IP), DIP
_HAND_X = {1: 48, 2: 64, 3: 80, 4: 96, 5: 112}
for _d, _x in _HAND_X.items():
    _RIGHT[f"MCP{_d}"] = (_x + (6 if _d == 1 else 0), 300 if _d == 1 else 312)
    _RIGHT[f"PIP{_d}"] = (_x - (4 if _d == 1 else 0), 318 if _d == 1 else 332)
    if _d > 1:
        _RIGHT[f"DIP{_d}"] = (_x, 350)
# forefoot: toe 1 (big toe) medial
_FOOT_X = {1: 176, 2: 164, 3: 152, 4: 140, 5: 128}
for _d, _x in _FOOT_X.items():
    _RIGHT[f"MTP{_d}"] = (_x, 516)
    _RIGHT[f"TOE_PIP{_d}"] = (_x, 534)


@dataclass(frozen=True)
class JointSpot:
    id: str
    name: str
    x: float
    y: float


def spots() -> list[JointSpot]:
    """Every catalogue joint with its position, right side first (catalogue order)."""
    out = []
    for row in JOINTS.itertuples():
        x, y = _RIGHT[str(row.joint)]
        out.append(JointSpot(str(row.id), str(row.name), x if row.side == "R" else WIDTH - x, y))
    return out


#: The body outline drawn behind the joints (one path, decorative).
OUTLINE = (
    "M200 20 a30 34 0 1 1 -0.1 0 Z "
    "M170 92 L230 92 L272 116 L300 204 L318 276 L296 282 L272 212 L248 150 L246 300 "
    "L250 478 L232 500 L214 480 L206 320 L194 320 L186 480 L168 500 L150 478 L154 300 "
    "L152 150 L128 212 L104 282 L82 276 L100 204 L128 116 Z"
)
