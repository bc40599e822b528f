"""The environments' pipeline stages: find what the notebook declares once prepared, build it before the kernel.

``environment_prepare_stage`` (after_prepare, before the cache's) reads the
declarations and names the environment, so the cache key holds its digest
and a replayed run builds nothing; ``environment_build_stage`` (before_execute,
after the cache's lookup) builds it when it is missing, off the batch's event
loop, and fails the run before any kernel starts when uv cannot.
"""

from __future__ import annotations

from dataclasses import replace

from nbformat import NotebookNode

from ..errors import EnvironmentDeclarationError
from ..kernel.fork.templates import current_templates
from ..kernel.spec_files import find_spec
from ..notebook.model import resolve_kernel_name
from ..options import EnvironmentSettings, ExecuteOptions
from ..pipeline.core import Prepared
from ..result import ExecutionResult
from .build import ensure_built
from .declarations import read_declarations
from .layout import EnvironmentPlan, plan_environment

FINDING = "environment"  # the name of this feature's finding in ``Prepared.findings``


def environment_plan(
    nb: NotebookNode, options: ExecuteOptions, settings: EnvironmentSettings | None
) -> EnvironmentPlan | None:
    """The environment *nb* declares, under *settings* (None: ``--env none``, or nothing declared).

    Raises EnvironmentDeclarationError for a declaration that cannot be read
    or a notebook whose kernel is not ipykernel (its environment could not be used).
    """
    if settings is None:
        return None
    declarations = read_declarations(nb)
    if declarations is None:
        return None
    kernel_name = resolve_kernel_name(nb, options)
    spec = find_spec(kernel_name)
    if spec is not None and not is_ipykernel(spec.argv):
        raise EnvironmentDeclarationError(
            f"the notebook declares dependencies ({declarations.where}) but its kernel {kernel_name!r} is not "
            "ipykernel; run it with -k python3, or ignore them with --env none"
        )
    return plan_environment(declarations, settings)


def with_environment(nb: NotebookNode, options: ExecuteOptions, settings: EnvironmentSettings | None) -> ExecuteOptions:
    """*options* with the notebook's own environment, as a run would have them (``nbrun cache key``)."""
    plan = environment_plan(nb, options, settings)
    return options if plan is None else options.with_changes(environment=plan.kernel_environment)


def is_ipykernel(argv: tuple[str, ...] | list[str]) -> bool:
    """The kernelspec starts ipykernel (``python -m ipykernel_launcher`` or ``-m ipykernel``)."""
    return any(part in ("ipykernel_launcher", "ipykernel") for part in argv[1:3])


def environment_prepare_stage(prepared: Prepared) -> Prepared:
    """Pipeline ``after_prepare`` stage: the environment the notebook declares, named (not built)."""
    plan = environment_plan(prepared.notebook, prepared.options, prepared.run.file.environments)
    if plan is None:
        return prepared
    options = prepared.options.with_changes(environment=plan.kernel_environment)
    return replace(prepared, options=options).with_finding(FINDING, plan)


async def environment_build_stage(prepared: Prepared) -> ExecutionResult | None:
    """Pipeline ``before_execute`` stage: build the environment when no run has yet (EnvironmentBuildError)."""
    plan = prepared.findings.get(FINDING)
    if isinstance(plan, EnvironmentPlan):
        python = await ensure_built(plan)
        templates = current_templates()
        if templates is not None:  # fast start: the environment's template boots while the kernel is asked for
            templates.warm(str(python))
    return None
