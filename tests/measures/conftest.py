"""Hypothesis settings for the measures tests: properties are checked, time is not (the machine
running the suite may be shared, and timing is the benchmarks' job, never a test's)."""

from hypothesis import settings

settings.register_profile("measures", deadline=None)
settings.load_profile("measures")
