"""The version of nbrun: the one place it is written (pyproject reads it; records and metadata say it)."""

__version__ = "0.1.0"
