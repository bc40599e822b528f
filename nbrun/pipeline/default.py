"""The default pipeline: the core's stages with every feature's registered, and ``run_file``.

The core (``pipeline``) knows no feature; this module is where the cache,
images, reports, values and environments plug their stages in, in the order they must run.
"""

from __future__ import annotations

from ..cache.stages import cache_lookup_stage, cache_prepare_stage, cache_store_stage
from ..control import RunControl
from ..environments.stages import environment_build_stage, environment_prepare_stage
from ..events import ExecutionObserver
from ..images.stages import extract_images_stage, image_links_stage, images_target_stage, strict_images_stage
from ..kernel.supply import KernelSupply
from ..reports.stages import html_stage, papermill_metadata_stage, report_mode_stage
from ..result import ExecutionResult
from ..values.stages import expect_prepare_stage, values_stage
from .core import FileRun, Pipeline, local_execute

DEFAULT_PIPELINE = Pipeline(
    # the environment is named before the cache key (which holds its digest) and built only on a miss
    after_prepare=(images_target_stage, expect_prepare_stage, environment_prepare_stage, cache_prepare_stage),
    before_execute=(cache_lookup_stage, environment_build_stage),
    # the cache stores the run before values are checked, images extracted or inputs hidden
    post_process=(
        cache_store_stage,
        values_stage,
        papermill_metadata_stage,
        extract_images_stage,
        image_links_stage,
        report_mode_stage,
    ),
    after_write=(html_stage, strict_images_stage),
)


async def run_file(
    run: FileRun,
    *,
    observer: ExecutionObserver | None = None,
    control: RunControl | None = None,
    supply: KernelSupply | None = None,
    pipeline: Pipeline = DEFAULT_PIPELINE,
) -> ExecutionResult:
    """One local file run through *pipeline* (``run_path``, a batch job, a pytest item)."""
    return await pipeline.executing(local_execute(control=control, supply=supply)).run(run, observer)
