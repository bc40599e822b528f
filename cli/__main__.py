"""``python -m nbrun.cli``."""

from .main import main

main()
