"""Building a notebook's environment with uv: once per digest, locked, never seen half-built.

``uv venv`` makes the environment in a temporary folder beside its final
place; ``uv pip install`` puts ipykernel and the declared dependencies in it
(uv's cache makes a second environment of the same packages a matter of
links). With a lock, ``uv export --frozen`` turns it into pinned requirements
with hashes, installed as both requirements and constraints: the locked
versions exactly, ipykernel fitted around them. The finished folder is
renamed into place, so a build that fails or is killed leaves nothing that a
later run would use; a lock file per digest makes parallel runs (in one
process or several) wait for one build instead of making two.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from ..errors import EnvironmentBuildError, MissingExtraError
from ..storage.file_lock import waiting_lock
from .layout import BUILDING_PREFIX, LAST_USED, RECORD, EnvironmentPlan

log = logging.getLogger("nbrun")

KERNEL_PACKAGE = "ipykernel"
_REASON_CHARS = 400


def find_uv() -> str:
    """The uv program: the ``uv`` package's (the env extra), else one on PATH; MissingExtraError without either."""
    try:
        from uv import find_uv_bin
    except ImportError:
        pass
    else:
        try:
            return os.fsdecode(find_uv_bin())
        except FileNotFoundError:
            pass
    found = shutil.which("uv")
    if found is None:
        raise MissingExtraError("a notebook that declares dependencies", "env")
    return found


def is_built(plan: EnvironmentPlan) -> bool:
    """The environment is finished (its record is the last thing a build writes)."""
    return (plan.folder / RECORD).is_file() and plan.python.exists()


async def ensure_built(plan: EnvironmentPlan) -> Path:
    """The environment's interpreter, building the environment first if no run has (EnvironmentBuildError)."""
    if not is_built(plan):
        uv = find_uv()  # before the lock: a missing extra is said at once
        async with waiting_lock(plan.lock_file):
            if not is_built(plan):  # another run may have built it while this one waited
                await _build(plan, uv)
    mark_used(plan.folder)
    return plan.python


def mark_used(folder: Path) -> None:
    """Note that the environment in *folder* was used now (what ``prune --older-than`` reads)."""
    try:
        (folder / LAST_USED).touch()
    except OSError:
        pass  # a read-only folder of environments still runs


async def _build(plan: EnvironmentPlan, uv: str) -> None:
    plan.root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{BUILDING_PREFIX}{plan.digest}-", dir=plan.root))
    began = time.monotonic()
    try:
        venv = building / "env"
        await _uv(uv, ["venv", "--quiet", "--relocatable", "--python", plan.base_python, str(venv)], "uv venv")
        python = str(venv / "bin" / "python")
        declared = plan.declarations
        if declared.lock is not None:
            requirements = await _exported_lock(uv, plan, building)
            install = ["-r", str(requirements), "-c", str(requirements), KERNEL_PACKAGE]
        else:
            install = [KERNEL_PACKAGE, *declared.dependencies]
        # compiled now, once: the kernels would compile (and, under PYTHONDONTWRITEBYTECODE, keep not) at every start
        await _uv(
            uv, ["pip", "install", "--quiet", "--compile-bytecode", "--python", python, *install], "uv pip install"
        )
        (venv / RECORD).write_text(json.dumps(plan.record(), indent=2) + "\n", encoding="utf-8")
        shutil.rmtree(plan.folder, ignore_errors=True)  # an unfinished one a killed build of an older nbrun left
        os.replace(venv, plan.folder)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    log.info("built environment %s in %.1f s (%s)", plan.digest, time.monotonic() - began, declared.describe())


async def _exported_lock(uv: str, plan: EnvironmentPlan, folder: Path) -> Path:
    """The lock as pinned requirements with hashes (``uv export --frozen`` on a script beside its lock)."""
    script = folder / "notebook.py"
    script.write_text(plan.declarations.script_block(), encoding="utf-8")
    assert plan.declarations.lock is not None
    Path(f"{script}.lock").write_text(plan.declarations.lock, encoding="utf-8")
    requirements = folder / "locked.txt"
    await _uv(
        uv,
        ["export", "--quiet", "--script", str(script), "--frozen", "--no-header", "--output-file", str(requirements)],
        "uv export",
    )
    return requirements


async def _uv(uv: str, arguments: list[str], what: str) -> None:
    """Run uv; EnvironmentBuildError with its reason on one line when it fails."""
    env = {**os.environ, "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)  # the target is always named; nbrun's own virtual environment is not it
    try:
        process = await asyncio.create_subprocess_exec(
            uv, *arguments, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env
        )
    except OSError as exc:
        raise EnvironmentBuildError(f"the environment could not be built: {uv}: {exc}") from None
    _, stderr = await process.communicate()
    if process.returncode != 0:
        reason = uv_reason(stderr.decode(errors="replace"))
        raise EnvironmentBuildError(f"the environment could not be built ({what}): {reason}")


def uv_reason(stderr: str) -> str:
    """uv's error message on one line: from its ``error:`` line on, the tree of causes joined."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    start = next((index for index, line in enumerate(lines) if line.startswith("error:")), 0)
    parts = [line.lstrip("╰─▶│ ").removeprefix("error:").removeprefix("cause:").strip() for line in lines[start:]]
    reason = ": ".join(part.rstrip(":") for part in parts if part and not part.startswith("hint:"))
    reason = reason or f"uv failed ({stderr.strip()[:80] or 'no message'})"
    return reason if len(reason) <= _REASON_CHARS else reason[: _REASON_CHARS - 3] + "..."
