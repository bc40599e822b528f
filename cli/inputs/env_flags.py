"""The flags of a notebook's own environment (``nbrun run``, ``nbrun cache key``): whether to use it, and where."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .cache_flags import folder_option

if TYPE_CHECKING:
    from nbrun.options import EnvironmentSettings

ENV_VAR = "NBRUN_ENV_DIR"  # nbrun.environments.layout.ENV_VAR, repeated so --help imports nothing of it
ENV_CHOICES = ("auto", "none")


def env_dir_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--env-dir DIR`` (or ``$NBRUN_ENV_DIR``): the folder of environments; the command gets ``env_dir``."""
    return folder_option(
        "--env-dir",
        "env_dir",
        ENV_VAR,
        f"Folder of the notebooks' own environments (or ${ENV_VAR}).  [default: ~/.cache/nbrun/envs]",
    )(command)


def env_run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --env and --env-dir; the command receives them as one ``environments`` argument (None: ``--env none``)."""

    @click.option(
        "--env",
        "env_mode",
        type=click.Choice(ENV_CHOICES),
        default="auto",
        show_default=True,
        help="auto: run a notebook that declares dependencies (PEP 723 block, metadata.uv, uv.lock) in its own "
        "environment, built with uv (the env extra); none: ignore the declarations.",
    )
    @env_dir_option
    @functools.wraps(command)
    def with_environments(*args: Any, env_mode: str, env_dir: Path | None, **kwargs: Any) -> Any:
        kwargs["environments"] = environment_settings(env_mode, env_dir)
        return command(*args, **kwargs)

    return with_environments


def environment_settings(env_mode: str, env_dir: Path | None) -> EnvironmentSettings | None:
    if env_mode == "none":
        return None
    from nbrun.options import EnvironmentSettings

    return EnvironmentSettings(env_dir.resolve() if env_dir is not None else None)
