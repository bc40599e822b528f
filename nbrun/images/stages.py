"""The image feature's pipeline stages: image outputs as files, links checked, broken payloads failed."""

from __future__ import annotations

from pathlib import Path

from ..errors import BrokenImagesError
from ..pipeline.core import Prepared
from ..result import ExecutionResult, ImageReport
from ..storage.atomic import check_writable
from ..storage.locations import Location, where_name
from .links import MANIFEST_NAME, ImageLinks, image_owner


def images_target_stage(prepared: Prepared) -> Prepared:
    """After-prepare stage: the images manifest can be written, before any kernel starts (NotebookWriteError)."""
    images = prepared.run.file.extract_images
    if isinstance(images, Path):  # a remote folder is checked by its upload
        check_writable(images / MANIFEST_NAME)
    return prepared


def extract_images_stage(prepared: Prepared, result: ExecutionResult) -> ExecutionResult:
    """Post-process stage: write image outputs as files (``file.extract_images``)."""
    file = prepared.run.file
    if file.extract_images is None:
        return result
    run = prepared.run
    # names and ownership follow the OUTPUT notebook, so runs of one source into several outputs never collide
    owner = image_owner(run.target)
    if isinstance(file.extract_images, Location):  # a remote images folder: staged locally, then uploaded
        from .remote import extract_images_to  # start-up time: Pillow is imported only when needed

        written, warnings, broken = extract_images_to(
            result.notebook,
            stem=run.target.stem,
            images_dir=file.extract_images,
            target=run.target,
            options=file,
            source_id=owner,
        )
        return result.with_report("images", ImageReport(written, warnings, broken))

    from .extract import extract_images  # start-up time: Pillow is imported only when needed

    local_target = isinstance(run.target, Path)
    notebook_dir = run.target.resolve().parent if isinstance(run.target, Path) else file.extract_images
    report = extract_images(
        result.notebook,
        stem=run.target.stem,
        images_dir=file.extract_images,
        notebook_dir=notebook_dir,
        options=file,
        source_id=owner,
    )
    if not local_target:  # a remote notebook links local images by absolute path
        from .remote import absolute_image_links

        absolute_image_links(result.notebook, file.extract_images.resolve().as_posix())
    return result.with_report("images", report)


def image_links_stage(prepared: Prepared, result: ExecutionResult) -> ExecutionResult:
    """Post-process stage (after extraction): warn of output links to files nbrun did not extract for
    this notebook; the HTML page and the run record never read them (``nbrun.images.links``)."""
    for warning in ImageLinks.for_target(prepared.run.target).refusals(result.notebook):
        prepared.observer.warning(warning)
    return result


def strict_images_stage(prepared: Prepared, result: ExecutionResult) -> ExecutionResult:
    """After-write stage: with ``file.strict_images``, a broken image payload fails the run."""
    if not prepared.run.file.strict_images or not result.broken_images:
        return result
    details = "".join(f"\n  {warning}" for warning in result.image_warnings)
    raise BrokenImagesError(
        where_name(prepared.run.source), f"{result.broken_images} broken image payload(s) (--strict-images){details}"
    )
