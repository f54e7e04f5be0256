"""Clinic web application: visits on a joint homunculus, live scores, treat-to-target decisions.

``rheumetrics serve [--db URL] [--demo]`` runs it; :func:`create_app` builds the FastAPI app on a
cohort store. User documentation: ``docs/app.md``.
"""

from rheumetrics.app.application import create_app
from rheumetrics.app.context import Settings

__all__ = ["Settings", "create_app"]
