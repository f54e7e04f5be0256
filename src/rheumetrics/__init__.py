"""rheumetrics: treat-to-target care and imaging-outcome research in RA and axSpA."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rheumetrics")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
