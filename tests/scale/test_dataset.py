"""Dataset layout: stable patient buckets, the field registry as Arrow schema, joint masks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rheumetrics import joints
from rheumetrics.errors import RheumetricsError
from rheumetrics.measures import FIELDS
from rheumetrics.scale import arrow_schema, bucket_of, open_dataset, write_table
from rheumetrics.scale.dataset import read_file
from rheumetrics.scale.jointmasks import add_counts, pack_wide, unpack_column
from rheumetrics.store import jointbits

from .conftest import synthetic_visits


def test_buckets_are_stable_in_range_and_spread():
    keys = [f"P{i:07d}" for i in range(20_000)]
    a, b = bucket_of(keys, 64), bucket_of(list(reversed(keys)), 64)[::-1]
    assert np.array_equal(a, b)  # independent of row order
    assert a.min() >= 0 and a.max() < 64
    counts = np.bincount(a, minlength=64)
    assert counts.min() > 0.7 * 20_000 / 64 and counts.max() < 1.3 * 20_000 / 64


def test_schema_carries_field_declarations():
    frame = synthetic_visits(3, 2)
    schema = arrow_schema(frame)
    crp = schema.field("crp_mg_l")
    assert str(crp.type) == "double"
    assert crp.metadata[b"unit"].decode() == FIELDS["crp_mg_l"].unit
    assert float(crp.metadata[b"high"]) == FIELDS["crp_mg_l"].high
    assert str(schema.field("tender").type) == f"fixed_size_binary[{jointbits.MASK_BYTES}]"


def test_write_and_read_back(tmp_path):
    frame = synthetic_visits(50, 3)
    write_table(tmp_path, "visits", frame, buckets=8)
    ds = open_dataset(tmp_path)
    assert ds.buckets == 8 and ds.tables == ("visits",)
    assert ds.n_rows("visits") == len(frame)
    back = pd.concat([read_file(p) for p in ds.files("visits")]).sort_values("visit_id")
    pd.testing.assert_frame_equal(back.reset_index(drop=True), frame, check_dtype=False)
    for path in ds.files("visits"):  # every patient lies in one bucket
        b = int(path.parent.name.split("=")[1])
        assert set(bucket_of(read_file(path)["patient_id"], 8)) == {b}
    manifest = json.loads((tmp_path / "_rheumetrics.json").read_text())
    assert manifest["layout"] == 1


def test_open_errors(tmp_path):
    with pytest.raises(RheumetricsError, match="not a rheumetrics Parquet dataset"):
        open_dataset(tmp_path)
    write_table(tmp_path, "visits", synthetic_visits(2, 1), buckets=4)
    with pytest.raises(RheumetricsError, match="has 4 buckets, not 8"):
        write_table(tmp_path, "visits", synthetic_visits(2, 1), buckets=8)
    with pytest.raises(RheumetricsError, match="no imaging_reads table"):
        open_dataset(tmp_path).files("imaging_reads")


def test_counts_from_masks_match_the_joint_catalogue():
    rng = np.random.default_rng(1)
    wide_cols = {c for s in joints.JOINT_SETS for c in joints.wide_columns(s)}
    wide = pd.DataFrame(
        {c: rng.choice([0.0, 1.0, np.nan], 40, p=[0.6, 0.38, 0.02]) for c in sorted(wide_cols)}
    )
    expected = joints.joint_counts(wide, sets=tuple(joints.JOINT_SETS))
    got = add_counts(pack_wide(wide))
    for col in joints.COUNT_COLUMNS.values():
        np.testing.assert_array_equal(
            got[col].to_numpy(float), expected[col].to_numpy(float, na_value=np.nan)
        )
    flags = unpack_column(pack_wide(wide)["tender"])
    assert flags.shape == (40, jointbits.N_JOINTS)


def test_packed_counts_equal_unpacked_counts():
    import pyarrow as pa

    from rheumetrics.scale.jointmasks import count_packed, mask_array, to_frame_with_counts

    rng = np.random.default_rng(4)
    flags = rng.random((500, jointbits.N_JOINTS)) < 0.3
    assessed = rng.random((500, jointbits.N_JOINTS)) < 0.99
    packed = {name: np.packbits(a, axis=1, bitorder="little") for name, a in
              (("f", flags), ("a", assessed))}  # fmt: skip
    for set_name in joints.JOINT_SETS:
        members = joints.joint_set(set_name)
        np.testing.assert_array_equal(
            count_packed(packed["f"], packed["a"], members),
            jointbits.count(flags, assessed, members),
        )
    table = pa.table({"patient_id": ["p"] * 500, "tender": mask_array(flags & assessed),
                      "tender_assessed": mask_array(assessed), "swollen": mask_array(flags),
                      "swollen_assessed": mask_array(assessed)})  # fmt: skip
    frame = to_frame_with_counts(table)
    np.testing.assert_array_equal(
        frame["tjc28"].to_numpy(),
        jointbits.count(flags & assessed, assessed, joints.joint_set("tender28")),
    )
