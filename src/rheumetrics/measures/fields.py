"""The measures' input fields: :mod:`rheumetrics.schema.fields`, re-exported.

Fields are declared once, on the ground floor (:class:`rheumetrics.schema.fields.Field`); this
module keeps the import path the measure modules use (``fields.register(...)``).
"""

from rheumetrics.schema.fields import FIELDS, Field, count, nrs, register

__all__ = ["FIELDS", "Field", "count", "nrs", "register"]
