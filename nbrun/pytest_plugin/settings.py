"""The plugin's options: ``--nbrun-*`` flags, ``nbrun_*`` ini keys, and per-notebook run options."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from nbrun.check.model import CheckOptions
from nbrun.check.pytest_options import add_check_options, check_options_from_config
from nbrun.options import ExecuteOptions, FileOptions
from nbrun.secrets import Secrets

from ..units import parse_duration, parse_size
from .nbmake_compat import nbmake_after_cell, uses_nbmake_cells

DEFAULT_TIMEOUT = 300.0  # nbmake's per-cell default, so a hung notebook cannot hang the suite

_INI_HELP = {
    "nbrun_timeout": "per-cell timeout for notebook tests (300, 90s, 5m; 0: none; default 300)",
    "nbrun_kernel": "kernel for every notebook test (default: each notebook's kernelspec)",
    "nbrun_output_dir": "write executed notebooks under this folder",
    "nbrun_extract_images": "write image outputs of executed notebooks as files into this folder",
    "nbrun_cache": "execution cache folder: unchanged notebooks are replayed, not run (see nbrun run --cache)",
    "nbrun_max_memory": "memory each notebook's kernel may use (512M, 2G); over it the test fails out-of-memory",
    "nbrun_jobs": "notebooks run at once in each pytest process (auto: its cores, shared among xdist workers; default 1)",
}
_INI_BOOL_HELP = {
    "nbrun_overwrite": "write executed notebooks back in place",
    "nbrun_find_import_errors": "notebook tests fail only on ImportError / ModuleNotFoundError",
}


def add_options(parser: pytest.Parser) -> None:
    """Register the ``--nbrun*`` flags and their ini keys."""
    group = parser.getgroup("nbrun", "notebooks as tests (nbrun)")
    group.addoption("--nbrun", action="store_true", default=False, help="collect and run *.ipynb files as tests")
    group.addoption("--nbrun-timeout", default=None, metavar="SECONDS", help=_INI_HELP["nbrun_timeout"])
    group.addoption("--nbrun-kernel", default=None, metavar="NAME", help=_INI_HELP["nbrun_kernel"])
    group.addoption("--nbrun-overwrite", action="store_true", default=None, help=_INI_BOOL_HELP["nbrun_overwrite"])
    group.addoption("--nbrun-output-dir", default=None, metavar="DIR", help=_INI_HELP["nbrun_output_dir"])
    group.addoption(
        "--nbrun-find-import-errors",
        action="store_true",
        default=None,
        help=_INI_BOOL_HELP["nbrun_find_import_errors"] + "; other errors are recorded and ignored",
    )
    group.addoption(
        "--nbrun-param",
        action="append",
        default=None,
        metavar="NAME=VALUE",
        help="papermill-style parameter for every notebook (repeatable)",
    )
    group.addoption("--nbrun-extract-images", default=None, metavar="DIR", help=_INI_HELP["nbrun_extract_images"])
    group.addoption("--nbrun-cache", default=None, metavar="DIR", help=_INI_HELP["nbrun_cache"])
    group.addoption("--nbrun-max-memory", default=None, metavar="SIZE", help=_INI_HELP["nbrun_max_memory"])
    group.addoption("--nbrun-jobs", default=None, metavar="N", help=_INI_HELP["nbrun_jobs"])
    group.addoption(
        "--nbrun-secret",
        action="append",
        default=None,
        metavar="NAME[=ENVVAR]",
        help="pass an environment variable to every kernel as a secret, redacted from outputs (repeatable)",
    )
    add_check_options(group)
    for name, text in _INI_HELP.items():
        parser.addini(name, text, default="")
    for name, text in _INI_BOOL_HELP.items():
        parser.addini(name, text, type="bool", default=False)
    parser.addini("nbrun_params", "NAME=VALUE parameters for every notebook, one a line", type="linelist", default=[])
    parser.addini(
        "nbrun_secrets", "NAME or NAME=ENVVAR secrets for every notebook, one a line", type="linelist", default=[]
    )


@dataclass(frozen=True)
class PluginSettings:
    """What the flags and ini keys asked for (flags win over ini keys)."""

    timeout: float | None = DEFAULT_TIMEOUT
    kernel: str | None = None
    overwrite: bool = False
    output_dir: Path | None = None
    find_import_errors: bool = False
    parameters: Mapping[str, Any] | None = None
    extract_images: Path | None = None
    cache: Path | None = None
    check: CheckOptions | None = None  # --nbrun-check: compare with the stored outputs (nbval's job)
    secrets: Secrets = field(default_factory=Secrets)
    max_memory: int | None = None
    jobs: int = 1

    @classmethod
    def from_config(cls, config: pytest.Config) -> PluginSettings:
        """Read and check the settings; raises pytest.UsageError for a bad value."""

        def pick(name: str) -> Any:
            value = config.getoption(name)
            return value if value is not None else config.getini(name)

        settings = cls(
            timeout=timeout_setting(pick("nbrun_timeout")),
            kernel=pick("nbrun_kernel") or None,
            overwrite=bool(pick("nbrun_overwrite")),
            output_dir=_folder(config, pick("nbrun_output_dir")),
            find_import_errors=bool(pick("nbrun_find_import_errors")),
            parameters=_parameters(config.getoption("nbrun_param") or config.getini("nbrun_params")),
            extract_images=_folder(config, pick("nbrun_extract_images")),
            cache=_folder(config, pick("nbrun_cache")),
            check=check_options_from_config(config),
            secrets=_secrets(config.getoption("nbrun_secret") or config.getini("nbrun_secrets")),
            max_memory=_size(pick("nbrun_max_memory")),
            jobs=_jobs(config, pick("nbrun_jobs")),
        )
        if settings.overwrite and settings.output_dir is not None:
            raise pytest.UsageError("--nbrun-overwrite and --nbrun-output-dir exclude each other")
        return settings


SETTINGS_KEY = pytest.StashKey[PluginSettings]()


def timeout_setting(value: Any) -> float | None:
    """``nbrun_timeout`` (ini or ``--nbrun-timeout``): a duration as nbrun.units reads it; 0 means no limit."""
    if value in (None, ""):
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value) if isinstance(value, (int, float)) else parse_duration(str(value))
    except ValueError:
        raise pytest.UsageError(f"nbrun timeout must be a duration such as 300, 90s or 5m, got {value!r}") from None
    return seconds if seconds > 0 else None


def _folder(config: pytest.Config, value: Any) -> Path | None:
    if not value:
        return None
    path = Path(os.path.expanduser(str(value)))
    return path if path.is_absolute() else config.invocation_params.dir / path


def _parameters(pairs: list[str]) -> dict[str, Any] | None:
    if not pairs:
        return None
    from nbrun.notebook.parameters import parse_value  # nbformat is imported only when parameters are given

    parameters: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip().isidentifier():
            raise pytest.UsageError(f"--nbrun-param wants NAME=VALUE, got {pair!r}")
        parameters[name.strip()] = parse_value(value)
    return parameters


def _secrets(specs: list[str]) -> Secrets:
    from nbrun.errors import SecretError
    from nbrun.secrets.sources import gather

    try:
        return gather(specs, [], [], os.environ)
    except SecretError as exc:
        raise pytest.UsageError(str(exc)) from None


def _jobs(config: pytest.Config, value: Any) -> int:
    if value in (None, ""):
        return 1
    if str(value).strip().lower() == "auto":
        from .lookahead import auto_jobs

        return auto_jobs(config)
    try:
        jobs = int(str(value))
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise pytest.UsageError(f"--nbrun-jobs wants a number of notebooks (1 or more) or auto, got {value!r}")
    return jobs


def _size(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        size = parse_size(str(value))
    except ValueError:
        raise pytest.UsageError(f"nbrun max memory must be a size such as 512M or 2G, got {value!r}") from None
    if size <= 0:
        raise pytest.UsageError(f"nbrun max memory must be positive, got {value!r}")
    return size


def notebook_timeout_and_errors(metadata: Mapping[str, Any], settings: PluginSettings) -> tuple[float | None, bool]:
    """nbmake's rule: ``metadata.execution.timeout`` / ``allow_errors`` win over the defaults."""
    execution = metadata.get("execution")
    execution = execution if isinstance(execution, dict) else {}
    timeout = settings.timeout
    if "timeout" in execution:
        raw = execution["timeout"]
        timeout = float(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw > 0 else None
    return timeout, bool(execution.get("allow_errors", False))


def execute_options(nb: Mapping[str, Any], settings: PluginSettings) -> ExecuteOptions:
    """The run options for one notebook (its JSON as read at collection)."""
    metadata = nb.get("metadata")
    timeout, allow_errors = notebook_timeout_and_errors(metadata if isinstance(metadata, dict) else {}, settings)
    return ExecuteOptions(
        kernel_name=settings.kernel,
        timeout=timeout,
        allow_errors=allow_errors or settings.find_import_errors,
        parameters=settings.parameters,
        after_cell=nbmake_after_cell if uses_nbmake_cells(dict(nb)) else None,
        secrets=settings.secrets,
        max_memory=settings.max_memory,
    )


def file_options(settings: PluginSettings) -> FileOptions:
    """What the file run writes besides the notebook (images), and the execution cache."""
    cache = None
    if settings.cache is not None:
        from nbrun.cache import CacheSettings

        cache = CacheSettings(settings.cache)
    return FileOptions(extract_images=settings.extract_images, cache=cache)
