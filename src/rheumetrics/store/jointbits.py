"""Compact storage of per-joint examination findings as packed bitmasks.

A joint examination records, for each of the 68 joints of the ``tender68`` catalogue set, whether
it is tender, whether it is swollen and whether each was assessed at all. Stored as one row per
visit with four 9-byte masks (68 bits each), not 134 rows per visit. Bit ``i`` (little-endian
within each byte, NumPy ``bitorder="little"``) stands for :data:`STORAGE_ORDER` ``[i]``.

The order is a *storage format*: it is frozen here and copied into the ``exam_joint`` table by
the first migration, so stored masks never change meaning when the joint catalogue evolves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

_SIDE_JOINTS = (
    "TMJ", "SC", "AC", "SHOULDER", "ELBOW", "WRIST",
    "MCP1", "MCP2", "MCP3", "MCP4", "MCP5",
    "PIP1", "PIP2", "PIP3", "PIP4", "PIP5",
    "DIP2", "DIP3", "DIP4", "DIP5",
    "HIP", "KNEE", "ANKLE", "TARSUS",
    "MTP1", "MTP2", "MTP3", "MTP4", "MTP5",
    "TOE_PIP1", "TOE_PIP2", "TOE_PIP3", "TOE_PIP4", "TOE_PIP5",
)  # fmt: skip

#: Joint ids in bit order (right side then left side, as in the joint catalogue).
STORAGE_ORDER: tuple[str, ...] = tuple(f"{s}_{j}" for s in "RL" for j in _SIDE_JOINTS)
N_JOINTS = len(STORAGE_ORDER)  # 68
MASK_BYTES = (N_JOINTS + 7) // 8  # 9
BIT_OF: dict[str, int] = {j: i for i, j in enumerate(STORAGE_ORDER)}

#: The four masks of one examination, in column order.
MASKS = ("tender", "tender_assessed", "swollen", "swollen_assessed")


def pack(flags: np.ndarray) -> list[bytes]:
    """Pack an ``(n, 68)`` boolean array into ``n`` 9-byte masks."""
    arr = np.ascontiguousarray(np.asarray(flags, dtype=bool))
    if arr.ndim != 2 or arr.shape[1] != N_JOINTS:
        raise ValueError(f"expected shape (n, {N_JOINTS}), got {arr.shape}")
    packed = np.packbits(arr, axis=1, bitorder="little")
    return [bytes(b) for b in packed.view(f"V{MASK_BYTES}").ravel().tolist()]


def unpack(masks: Sequence[bytes | None]) -> np.ndarray:
    """Unpack ``n`` 9-byte masks into an ``(n, 68)`` boolean array (``None`` -> all False)."""
    values = list(masks)
    if any(m is None for m in values):
        values = [bytes(MASK_BYTES) if m is None else m for m in values]
    # fixed-width bytes keep every byte (a trailing zero byte is padding of the same value)
    raw = np.array(values, dtype=f"S{MASK_BYTES}").view(np.uint8).reshape(len(values), MASK_BYTES)
    return np.unpackbits(raw, axis=1, count=N_JOINTS, bitorder="little").astype(bool)


def findings_to_frame(
    tender: np.ndarray,
    tender_assessed: np.ndarray,
    swollen: np.ndarray,
    swollen_assessed: np.ndarray,
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """Wide ``tender_<JOINT>`` / ``swollen_<JOINT>`` columns: 1, 0, or NA (not assessed)."""
    cols: dict[str, pd.Series] = {}
    for state, flags, assessed in (
        ("tender", tender, tender_assessed),
        ("swollen", swollen, swollen_assessed),
    ):
        values = np.where(assessed, flags.astype(np.int8), np.int8(0))
        for i, joint in enumerate(STORAGE_ORDER):
            cols[f"{state}_{joint}"] = pd.Series(
                pd.arrays.IntegerArray(values[:, i].copy(), ~assessed[:, i]), index=index
            )
    return pd.DataFrame(cols, index=index)


def count(flags: np.ndarray, assessed: np.ndarray, joints: Sequence[str]) -> np.ndarray:
    """Count of positive joints over ``joints``; NaN where any of them was not assessed.

    No proration: a count over a set with unassessed joints is missing, not scaled up.
    """
    idx = [BIT_OF[j] for j in joints]
    total = flags[:, idx].sum(axis=1).astype(float)
    complete = assessed[:, idx].all(axis=1)
    return np.where(complete, total, np.nan)
