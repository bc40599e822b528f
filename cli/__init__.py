"""The ``nbrun`` command line, installed as ``nbrun.cli``."""

from .main import main

__all__ = ["main"]
