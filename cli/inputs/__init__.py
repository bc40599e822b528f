"""Turning arguments into notebooks, parameters and checked paths."""
