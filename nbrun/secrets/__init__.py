"""Secrets: values the kernel gets as environment variables and nothing nbrun writes ever holds.

``values`` holds them (names in every ``repr``, values nowhere), ``redaction``
replaces a value and its encoded forms in what the kernel sends, ``sources``
reads them from the environment, a secrets file and ``--redact-env`` patterns.
"""

from __future__ import annotations

from .values import MIN_LENGTH, Secret, Secrets

__all__ = ["MIN_LENGTH", "Secret", "Secrets"]
