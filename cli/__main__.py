"""``python -m nbrun.cli``."""

from .app import main

main()
