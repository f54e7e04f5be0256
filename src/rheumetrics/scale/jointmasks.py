"""Per-joint findings as packed bitmask columns, and joint counts straight from the masks.

The masks use the store's frozen bit order (:data:`rheumetrics.store.jointbits.STORAGE_ORDER`), so a
dataset written from the store and one written by a registry generator read the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rheumetrics import joints as joint_catalogue
from rheumetrics.store import jointbits

_WIDE_PREFIX = {"tender": "tender_", "swollen": "swollen_"}


def has_masks(frame: pd.DataFrame) -> bool:
    """True when ``frame`` carries the four mask columns."""
    return all(m in frame.columns for m in jointbits.MASKS)


def pack_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace wide ``tender_<JOINT>``/``swollen_<JOINT>`` columns (1, 0, NA) by the four masks.

    A joint is assessed when its value is present; joints without a column were not assessed.
    """
    out = frame.copy()
    n = len(frame)
    for state, prefix in _WIDE_PREFIX.items():
        flags = np.zeros((n, jointbits.N_JOINTS), dtype=bool)
        assessed = np.zeros((n, jointbits.N_JOINTS), dtype=bool)
        for joint, bit in jointbits.BIT_OF.items():
            col = f"{prefix}{joint}"
            if col in frame.columns:
                values = pd.to_numeric(frame[col]).astype("Float64")
                assessed[:, bit] = values.notna().to_numpy()
                flags[:, bit] = (values.fillna(0) > 0).to_numpy(dtype=bool)
        out[state] = jointbits.pack(flags)
        out[f"{state}_assessed"] = jointbits.pack(assessed)
    wide = [c for c in frame.columns if c.startswith(tuple(_WIDE_PREFIX.values()))]
    return out.drop(columns=wide)


def unpack_column(values: pd.Series) -> np.ndarray:
    """An ``(n, 68)`` boolean array from a column of 9-byte masks (missing: nothing set)."""
    raw = values.to_numpy(dtype=object)
    present = pd.notna(raw)
    buf = np.zeros((len(raw), jointbits.MASK_BYTES), dtype=np.uint8)
    if present.any():
        joined = b"".join(raw[present].tolist())
        buf[present] = np.frombuffer(joined, dtype=np.uint8).reshape(-1, jointbits.MASK_BYTES)
    return np.unpackbits(buf, axis=1, count=jointbits.N_JOINTS, bitorder="little").astype(bool)


def add_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill missing joint counts (``tjc28``, ``sjc28``, ...) from the masks, without proration.

    A count over a set with an unassessed joint stays missing, as when the store is read back.
    """
    if not has_masks(frame):
        return frame
    masks = {m: unpack_column(frame[m]) for m in jointbits.MASKS}
    out = frame.copy()
    for set_name, col in joint_catalogue.COUNT_COLUMNS.items():
        state = "tender" if set_name.startswith("tender") else "swollen"
        derived = jointbits.count(
            masks[state], masks[f"{state}_assessed"], joint_catalogue.joint_set(set_name)
        )
        if col in out.columns:
            recorded = pd.to_numeric(out[col]).astype("float64").to_numpy()
            derived = np.where(np.isnan(recorded), derived, recorded)
        out[col] = derived
    return out
