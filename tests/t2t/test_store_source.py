"""``rheumetrics t2t --db``: visits, therapies and MRI reads come from the cohort store.

Scenario of t2t.md §3.2 (IMAGINE-RA, JAMA 2019): clinical remission (DAS28-CRP <= 3.2, no swollen
joint) with MRI bone marrow oedema escalates under the MRI-guided arm and continues under the
conventional arm. Here the DAS28-CRP is scored by the store and the oedema total comes from RAMRIS
2002 osteitis reads (imaging-scores.md §1.2), so the whole path store -> imaging -> engine is used.
"""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from rheumetrics.cli import app
from rheumetrics.measures import das28_crp
from rheumetrics.store import import_file, init_db, make_engine

VISITS = """patient_id,visit_date,tjc28,sjc28,crp_mg_l,gh_mm
p1,2020-01-01,1,0,2,10
"""
VISITS_MAP = """[source]
format = "csv"
[patient]
id = "patient_id"
diagnosis = { value = "ra" }
[visit]
date = "visit_date"
[values]
tjc28 = "tjc28"
sjc28 = "sjc28"
crp_mg_l = "crp_mg_l"
gh_mm = "gh_mm"
"""
THERAPIES = """patient_id,drug,drug_class,start_date,stop_date
p1,methotrexate,csDMARD,2019-01-01,
"""
THERAPIES_MAP = """[source]
format = "csv"
[patient]
id = "patient_id"
[therapy]
drug = "drug"
drug_class = "drug_class"
start_date = "start_date"
stop_date = "stop_date"
"""
READS = """patient_id,time_point,image_date,site,grade
p1,V1,2020-01-03,RADIUS,2
p1,V1,2020-01-03,ULNA,1
"""
READS_MAP = """[source]
format = "csv"
[patient]
id = "patient_id"
[imaging]
timepoint = "time_point"
image_date = "image_date"
side = { value = "R" }
modality = { value = "MRI" }
system = { value = "ramris" }
version = { value = "2002" }
reader = { value = "R1" }
site = "site"
feature = { value = "osteitis" }
grade = "grade"
"""


def test_t2t_over_the_store_uses_stored_scores_and_mri(tmp_path):
    url = f"sqlite:///{tmp_path / 'cohort.sqlite'}"
    engine = make_engine(url)
    init_db(engine)
    for name, data, mapping in (
        ("visits", VISITS, VISITS_MAP),
        ("therapies", THERAPIES, THERAPIES_MAP),
        ("reads", READS, READS_MAP),
    ):
        (tmp_path / f"{name}.csv").write_text(data)
        (tmp_path / f"{name}.toml").write_text(mapping)
        import_file(engine, tmp_path / f"{name}.csv", tmp_path / f"{name}.toml")
    engine.dispose()
    logs = {}
    for arm in ("imagine_ra_mri", "imagine_ra_conventional"):
        out = tmp_path / f"{arm}.csv"
        result = CliRunner().invoke(app, ["t2t", "--db", url, "--strategy", arm, "--out", str(out)])
        assert result.exit_code == 0, result.output
        logs[arm] = pd.read_csv(out)
    assert das28_crp(1, 0, 2, 10) <= 3.2  # clinical remission by the IMAGINE-RA index target
    assert logs["imagine_ra_mri"].loc[0, "action"] == "escalate"
    assert logs["imagine_ra_conventional"].loc[0, "action"] == "continue"


def test_t2t_without_input_or_db_is_a_clear_error():
    result = CliRunner().invoke(app, ["t2t", "--strategy", "eular2022_ra"])
    assert result.exit_code == 1
    assert "--db" in result.output
