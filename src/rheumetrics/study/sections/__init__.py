"""The built-in analyses, each registered once: its options, its computation (tidy tables from
:mod:`rheumetrics.study.analyses`), the table and figures as printed, and its methods sentence.
Importing this package registers them, in report order.
The whole registry, built-in analyses and any registered since, is :func:`analyses`.
"""

from importlib import import_module

from rheumetrics.study.registry import REGISTRY, Analysis

#: The modules of the registered analyses, in report order (importing one registers its analyses).
MODULES = ("groups", "associations", "adjusted", "prediction", "longitudinal", "evidence")

for _module in MODULES:
    import_module(f"{__name__}.{_module}")


def analyses() -> dict[str, Analysis]:
    """The registry with every built-in analysis loaded, in report order."""
    return REGISTRY
