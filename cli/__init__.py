"""The ``nbrun`` command line, installed as ``nbrun.cli``."""

from .app import main

__all__ = ["main"]
