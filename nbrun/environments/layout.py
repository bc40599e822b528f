"""Where an environment lives and what it is called: the folder of environments, the digest, the files in one.

An environment is named by the digest of what it is built from (the
declarations, the lock, the base interpreter, the platform), so two notebooks
declaring the same dependencies share one, and a changed pin makes another.
Inside the folder of environments::

    <digest>/                 a finished environment (a uv virtual environment)
    <digest>/nbrun-env.json   what it was built from; written last, so its presence means "finished"
    <digest>/.last-used       touched at every use (``nbrun env prune --older-than``)
    <digest>.lock             held while it is built or removed
    .building-<digest>-*/     a build under way (renamed into place when done)
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from ..options import EnvironmentSettings, KernelEnvironment
from ..storage.user_cache import user_cache_dir
from .declarations import Declarations

ENV_VAR = "NBRUN_ENV_DIR"
FORMAT = "nbrun-env-1"
RECORD = "nbrun-env.json"
LAST_USED = ".last-used"
BUILDING_PREFIX = ".building-"
DIGEST_LENGTH = 16


def environments_root(settings: EnvironmentSettings) -> Path:
    """The folder of environments: the settings', else ``$NBRUN_ENV_DIR``, else the user cache's ``nbrun/envs``."""
    if settings.directory is not None:
        return settings.directory
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return user_cache_dir() / "envs"


@dataclass(frozen=True)
class EnvironmentPlan:
    """One environment to have: what it is built from and where it goes."""

    declarations: Declarations
    base_python: str  # an interpreter path, or a version request uv resolves (requires-python the host misses)
    digest: str
    root: Path

    @property
    def folder(self) -> Path:
        return self.root / self.digest

    @property
    def python(self) -> Path:
        return self.folder / "bin" / "python"

    @property
    def lock_file(self) -> Path:
        return self.root / f"{self.digest}.lock"

    @property
    def kernel_environment(self) -> KernelEnvironment:
        return KernelEnvironment(self.python, self.digest, self.declarations.dependencies)

    def record(self) -> dict[str, object]:
        """What ``nbrun-env.json`` holds."""
        found = self.declarations
        return {
            "format": FORMAT,
            "digest": self.digest,
            "dependencies": list(found.dependencies),
            "requires_python": found.requires_python,
            "locked": found.locked_packages(),
            "declared_in": found.where,
            "base_python": self.base_python,
        }


def plan_environment(declarations: Declarations, settings: EnvironmentSettings) -> EnvironmentPlan:
    """The environment *declarations* need, under the settings' folder (not built: see ``build``)."""
    base = base_python(declarations.requires_python)
    identity = {
        "format": FORMAT,
        "dependencies": sorted(declarations.dependencies),
        "requires_python": declarations.requires_python,
        "lock": declarations.lock,
        "settings": declarations.settings,
        "base_python": base,
        "base_version": platform.python_version() if base == sys.executable else None,
        "platform": [sys.platform, platform.machine()],
    }
    text = json.dumps(identity, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]
    return EnvironmentPlan(declarations, base, digest, environments_root(settings).absolute())


def base_python(requires_python: str | None) -> str:
    """This interpreter when it satisfies *requires_python* (or nothing is required), else the request for uv."""
    if requires_python is None:
        return sys.executable
    from packaging.specifiers import SpecifierSet

    if SpecifierSet(requires_python).contains(platform.python_version(), prereleases=True):
        return sys.executable
    return requires_python
