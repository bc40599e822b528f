"""Helpers the tests import: notebook builders, process checks, fakes, harnesses."""
