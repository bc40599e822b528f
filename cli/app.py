"""The ``nbrun`` command group with every command registered: what the console script runs."""

from __future__ import annotations

from .commands.cache import cache_group
from .commands.check import register as register_check
from .commands.daemon import daemon_group
from .commands.env import env_group
from .commands.run import main, run_command

register_check(main, run_command)  # nbrun check reuses run's options
main.add_command(cache_group)
main.add_command(daemon_group)
main.add_command(env_group)

__all__ = ["main"]
