"""Registry scale: the store as a Parquet dataset, read and processed out of core on Dask.

>>> from rheumetrics.scale import open_dataset, scores_frame, score_summary   # doctest: +SKIP
>>> ds = open_dataset("registry/")                                              # doctest: +SKIP
>>> scored = scores_frame(ds, measures=["das28_esr"])                          # doctest: +SKIP
>>> score_summary(scored, ["das28_esr"])                                         # doctest: +SKIP

Partitions follow patient hash buckets, so per-patient work stays inside one partition and memory
is bounded by the largest file. User documentation: ``docs/scale.md``.
"""

from typing import TYPE_CHECKING

from rheumetrics.lazy import lazy_attributes

if TYPE_CHECKING:
    from rheumetrics.scale.cluster import LOCAL_CLUSTER_ABOVE, execution
    from rheumetrics.scale.dataset import (
        DEFAULT_BUCKETS,
        Dataset,
        arrow_schema,
        bucket_of,
        is_dataset,
        open_dataset,
        write_table,
    )
    from rheumetrics.scale.export import export_parquet
    from rheumetrics.scale.imaging_outputs import ChangeRequest, run_imaging
    from rheumetrics.scale.scores import imaging_frame, scores_frame, write_frame
    from rheumetrics.scale.study_cohort import dataset_cohort
    from rheumetrics.scale.summaries import category_counts, quantiles, score_summary
    from rheumetrics.scale.t2t_decisions import decide_partition, decision_summary, decisions_frame
    from rheumetrics.scale.t2t_summary import run_decisions

#: Public name -> the submodule defining it, imported on first use.
_WHERE = {
    "LOCAL_CLUSTER_ABOVE": "cluster",
    "execution": "cluster",
    "DEFAULT_BUCKETS": "dataset",
    "Dataset": "dataset",
    "arrow_schema": "dataset",
    "bucket_of": "dataset",
    "is_dataset": "dataset",
    "open_dataset": "dataset",
    "write_table": "dataset",
    "export_parquet": "export",
    "ChangeRequest": "imaging_outputs",
    "run_imaging": "imaging_outputs",
    "imaging_frame": "scores",
    "scores_frame": "scores",
    "write_frame": "scores",
    "dataset_cohort": "study_cohort",
    "category_counts": "summaries",
    "quantiles": "summaries",
    "score_summary": "summaries",
    "decide_partition": "t2t_decisions",
    "decision_summary": "t2t_decisions",
    "decisions_frame": "t2t_decisions",
    "run_decisions": "t2t_summary",
}
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)

__all__ = [
    "DEFAULT_BUCKETS",
    "LOCAL_CLUSTER_ABOVE",
    "ChangeRequest",
    "Dataset",
    "arrow_schema",
    "bucket_of",
    "category_counts",
    "dataset_cohort",
    "decide_partition",
    "decision_summary",
    "decisions_frame",
    "execution",
    "export_parquet",
    "imaging_frame",
    "is_dataset",
    "open_dataset",
    "quantiles",
    "run_decisions",
    "run_imaging",
    "score_summary",
    "scores_frame",
    "write_frame",
    "write_table",
]
