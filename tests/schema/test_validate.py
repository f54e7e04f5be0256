"""One validator: nothing coerced silently, every problem with line, key, field, value and range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rheumetrics.schema.fields import FIELDS, Field
from rheumetrics.schema.validate import validate_frame

CRP = {"crp_mg_l": FIELDS["crp_mg_l"]}
RANGE = "must be a number >= 0 and <= 1000 mg/L"


def _frame(values: list[object]) -> pd.DataFrame:
    n = len(values)
    index = pd.RangeIndex(2, n + 2, name="line")
    return pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(n)],
            "visit_date": ["2021-01-01"] * n,
            "crp_mg_l": pd.Series(values, dtype=object, index=index),
        },
        index=index,
    )


@pytest.mark.parametrize(
    "text",
    [
        "inf",
        "Infinity",
        "-inf",
        "1e400",
        "NaN",
        "１０",
        "١٢",
        "1_0",
        "True",
        "false",
        "0x10",
        "5 mg",
    ],
)
def test_text_that_is_not_plainly_a_finite_number_is_a_problem(text: str) -> None:
    parsed, problems = validate_frame(_frame([text]), CRP, "labs.csv")
    assert np.isnan(parsed["crp_mg_l"].iloc[0])
    (p,) = problems
    assert (p.line, p.field, p.value) == (2, "crp_mg_l", text)
    assert RANGE in p.rule  # "not a number" also says what is allowed


@pytest.mark.parametrize("text", ["5", " 5 ", "5.", ".5", "+5", "5e1", "1E2", "0"])
def test_plain_ascii_numbers_are_numbers(text: str) -> None:
    parsed, problems = validate_frame(_frame([text]), CRP, "labs.csv")
    assert problems == []
    assert parsed["crp_mg_l"].iloc[0] == float(text)


def test_typed_cells_booleans_and_infinities_are_refused() -> None:
    # Excel keeps cell types: a TRUE in a numeric field, a float infinity
    parsed, problems = validate_frame(_frame([True, 3, 2.5, float("inf")]), CRP, "labs.xlsx")
    assert parsed["crp_mg_l"].iloc[1:3].tolist() == [3.0, 2.5]
    assert [(p.line, p.value) for p in problems] == [(2, True), (5, float("inf"))]
    assert "true/false" in problems[0].rule and "finite" in problems[1].rule


def test_a_boolean_column_is_not_read_as_numbers() -> None:
    raw = _frame([0])
    raw["crp_mg_l"] = pd.Series([True], index=raw.index)
    _, problems = validate_frame(raw, CRP, "labs.parquet")
    assert len(problems) == 1 and "true/false" in problems[0].rule


def test_problems_carry_the_natural_key_and_come_sorted_by_line() -> None:
    _, problems = validate_frame(_frame(["1", "x", "2000", "y"]), CRP, "labs.csv")
    assert [p.line for p in problems] == [3, 4, 5]
    assert dict(problems[0].key) == {"patient_id": "P1", "visit_date": "2021-01-01"}
    assert str(problems[1]) == (
        "labs.csv: line 4 (patient_id P2, visit_date 2021-01-01), field 'crp_mg_l', "
        "value '2000': " + RANGE
    )


def test_every_numeric_field_has_a_finite_upper_bound() -> None:
    import rheumetrics.measures  # noqa: F401  (registers the measures' fields)
    from rheumetrics.schema.records import IMAGING_FIELDS, THERAPY_FIELDS
    from rheumetrics.store.items import items

    declared = [*FIELDS.values(), *THERAPY_FIELDS.values(), *IMAGING_FIELDS.values()]
    declared += [i.field for i in items().values()]
    numeric = [f for f in declared if f.numeric]
    assert numeric and all(np.isfinite(f.high) for f in numeric)
    with pytest.raises(ValueError, match="finite upper bound"):
        Field("dose", "dose", "mg", 0, np.inf)


def test_reported_composite_maxima_come_from_the_formula() -> None:
    from rheumetrics.store.items import items

    # SDAI = TJC28 + SJC28 + PtGA + PhGA + CRP(mg/dL) (Smolen 2003): 28+28+10+10+1000/10
    assert items()["sdai_reported"].max == 176.0
    # ASDAS-CRP (Lukas 2009): 0.121*10 + 0.058*10 + 0.110*10 + 0.073*10 + 0.579*ln(1000+1)
    expected = 0.121 * 10 + 0.058 * 10 + 0.110 * 10 + 0.073 * 10 + 0.579 * np.log(1001)
    assert items()["asdas_crp_reported"].max == pytest.approx(np.ceil(expected * 100) / 100)


def test_one_unit_table_serves_store_and_measures() -> None:
    from rheumetrics.measures.units import ALTERNATIVES
    from rheumetrics.schema import units
    from rheumetrics.store.items import conversion_factor

    assert units.factor("mg/L", "mg/dL") == 10.0  # 1 mg/dL = 10 mg/L
    assert ALTERNATIVES["crp_mg_dl"] == ("crp_mg_l", units.factor("mg/L", "mg/dL"))
    assert conversion_factor("crp_mg_l", "mg/dL") == 10.0
    # stored items keep their UCUM unit: a 0-100 source of a 0-10 item converts
    assert conversion_factor("ptga", "0-100") == 0.1
    assert conversion_factor("tjc28", "count") == 1.0
    assert units.factor("mg/L", "mmol/L") is None


def test_imaging_reads_have_one_column_vocabulary() -> None:
    # The store's imaging fields are the imaging package's read columns: no translation table.
    from rheumetrics.imaging.reads import OPTIONAL_COLUMNS, READ_KEYS, REQUIRED_COLUMNS
    from rheumetrics.schema.records import IMAGING_DEFAULTS, IMAGING_FIELDS, IMAGING_READ_KEY
    from rheumetrics.store.models import IMAGING_READ

    columns = {"patient_id", *IMAGING_FIELDS}
    assert set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) <= columns
    assert set(READ_KEYS) <= set(IMAGING_READ_KEY)
    assert {c.name for c in IMAGING_READ.c} - {"id"} == columns
    assert {k: OPTIONAL_COLUMNS[k] for k in IMAGING_DEFAULTS} == IMAGING_DEFAULTS
