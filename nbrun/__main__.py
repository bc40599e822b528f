"""``python -m nbrun``: the same as the ``nbrun`` command."""

from nbrun.cli import main

main(prog_name="nbrun")
