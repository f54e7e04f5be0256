"""Study files, analyses and reports: a cohort and a short TOML study file in, a self-contained
HTML report and CSV tables out (``rheumetrics report STUDY --out report.html``; docs/reports.md).

Modules: :mod:`.model` (study file), :mod:`.cohort` (store or files), :mod:`.design` (enrolments,
visit windows, analysis frame), :mod:`.analyses` (tables), :mod:`.figures`, :mod:`.report`,
:mod:`.synthetic` and :mod:`.pinning` (the synthetic example cohorts).
"""
