"""Options by scope: a kernel run, a file run, a batch.

``ExecuteOptions`` is what executing a notebook on a kernel needs (and the
parameters the prepare stage injects); ``FileOptions`` what a file run adds
around it (autosave, image files); ``BatchOptions`` what running many
notebooks from one process adds (concurrency, fail-fast, fast start).
Every field has a safe default and is validated in ``__post_init__``; the
CLI takes its defaults from here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbformat import NotebookNode

from .secrets.values import Secrets
from .storage.locations import Location


@dataclass(frozen=True)
class CacheSettings:
    """Where the cache lives and how to use it for a run.

    Attributes:
        directory: the cache folder (created on first store).
        rerun_failed: a stored failure is run again (and replaced) instead of replayed.
        extra_inputs: input globs (relative to the current directory) that are
            part of every notebook's key, besides its ``metadata.nbrun.inputs``.
        ttl: seconds a stored run that reached the network or started a
            subprocess (which nbrun cannot re-check) may be replayed; ``None``:
            never. A notebook's ``metadata.nbrun.cache.ttl`` takes precedence.
    """

    directory: Path
    rerun_failed: bool = False
    extra_inputs: tuple[str, ...] = ()
    ttl: float | None = None


@dataclass(frozen=True)
class EnvironmentSettings:
    """Where notebooks that declare their own dependencies get their environments built (``nbrun.environments``).

    Attributes:
        directory: the folder of the environments; ``None``: ``$NBRUN_ENV_DIR``,
            else ``nbrun/envs`` in the user cache folder (``~/.cache``).
    """

    directory: Path | None = None


@dataclass(frozen=True)
class KernelEnvironment:
    """The notebook's own environment its kernel runs in, as the kernel start and the cache key see it.

    Attributes:
        python: the environment's interpreter; a Python kernel is started as
            ``python -m ipykernel_launcher`` there instead of the kernelspec's program.
        digest: the hash of the declarations, the lock, the base interpreter and
            the platform (the environment's name, and a part of the cache key).
        declared: the dependencies as declared, for the key's readable part.
    """

    python: Path
    digest: str
    declared: tuple[str, ...] = ()


DEFAULT_KERNEL = "python3"
DEFAULT_MAX_OUTPUT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class ExecuteOptions:
    """How to execute a notebook on a kernel.

    Every field has a safe default; build a variant with :meth:`with_changes`.

    Attributes:
        kernel_name: kernel to start; ``None`` means the notebook's
            ``metadata.kernelspec.name``, else ``python3``.
        cwd: kernel working directory; ``None`` means the notebook's folder
            (or the process cwd for an in-memory notebook).
        timeout: wall-clock seconds a cell may run; ``None`` for no limit.
        notebook_timeout: wall-clock seconds for the whole notebook.
        startup_timeout: seconds for the kernel to start and answer.
        interrupt_grace: seconds to wait after an interrupt before killing.
        iopub_silence_timeout: after a cell's shell reply, how long IOPub may be
            silent before nbrun stops waiting for the cell's ``idle`` status.
        allow_errors: run every cell even when one raises.
        skip_tag: cells with this tag are not executed (outputs cleared).
        raises_tag: cells with this tag may raise without stopping the run.
        max_output_bytes: outputs kept per cell; past it they are truncated
            with a visible marker.
        restart_on_death: start a fresh kernel and go on after a kernel dies.
        stdin_lines: answers for ``input()`` calls, in order; ``None`` refuses
            stdin (``input()`` raises in the kernel).
        store_widget_state: save widget comm state in ``metadata.widgets``.
        record_timing: write ``cell.metadata.execution`` timestamps.
        extra_kernel_args: extra command-line arguments for the kernel.
        parameters: values injected papermill-style in a cell tagged
            ``injected-parameters`` (``None``: no injection).
        strict_parameters: a parameter the ``parameters`` cell does not
            declare, a value of another type than its declared default and a
            notebook with no ``parameters`` cell are errors, not warnings.
        clear_parameters: without ``parameters``, drop the notebook's
            ``injected-parameters`` cell (an earlier run's) so its defaults
            apply; by default those values are used again, and said.
        after_cell: called with each code cell that ran without error; the
            code it returns (``None``: nothing) runs in the same kernel before
            the next cell, keeping no outputs or history. Its failure fails
            the run with its own message, even where errors are allowed
            (see ``nbrun.execution.after_cell``). Must be picklable for remote runs.
        record_reads: a Python kernel records the environment variables the
            run reads and the editable installs' modules it imports (the
            execution cache sets it; see ``nbrun.execution.kernel_reads``).
        secrets: values the kernel gets as environment variables and that
            nothing written holds: every output, error and log line has each
            value (and its encoded forms) replaced by ``[secret NAME]``.
            A ``{NAME: value}`` mapping or :class:`~nbrun.secrets.Secrets`;
            a ``repr`` shows the names only.
        max_memory: bytes the kernel's process tree may use (its own cgroup
            where nbrun can make one, else interrupted and then killed by
            nbrun's sampler); over it the run is ``out-of-memory``. A
            notebook's ``metadata.nbrun.max_memory`` applies when this is None.
        environment: the notebook's own environment (set by the
            ``nbrun.environments`` stage from what the notebook declares); ``None``:
            the kernelspec's interpreter.
    """

    kernel_name: str | None = None
    cwd: Path | None = None
    timeout: float | None = None
    notebook_timeout: float | None = None
    startup_timeout: float = 60.0
    interrupt_grace: float = 5.0
    iopub_silence_timeout: float = 10.0
    allow_errors: bool = False
    skip_tag: str = "skip-execution"
    raises_tag: str = "raises-exception"
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    restart_on_death: bool = False
    stdin_lines: tuple[str, ...] | None = None
    store_widget_state: bool = True
    record_timing: bool = True
    extra_kernel_args: tuple[str, ...] = field(default_factory=tuple)
    parameters: Mapping[str, Any] | None = None
    strict_parameters: bool = False
    clear_parameters: bool = False
    transport: str = "auto"  # kernel sockets: auto (IPC for ipykernel, else TCP), ipc or tcp
    after_cell: Callable[[NotebookNode], str | None] | None = None
    record_reads: bool = False
    secrets: Secrets = field(default_factory=Secrets)
    max_memory: int | None = None
    environment: KernelEnvironment | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.secrets, Secrets):  # a plain {NAME: value} mapping (SecretError for a short value)
            object.__setattr__(self, "secrets", Secrets(self.secrets))
        for name in ("timeout", "notebook_timeout"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        for name in ("startup_timeout", "interrupt_grace", "iopub_silence_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.max_memory is not None and self.max_memory <= 0:
            raise ValueError(f"max_memory must be positive, got {self.max_memory}")
        if self.max_output_bytes <= 0:
            raise ValueError(f"max_output_bytes must be positive, got {self.max_output_bytes}")
        for name in ("cwd",):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(os.fspath(value)))

    def with_changes(self, **changes: object) -> ExecuteOptions:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class FileOptions:
    """What a file run (``run_path``, a batch job) does around the kernel run.

    Attributes:
        autosave_seconds: rewrite the output notebook this often during the
            run (``None``: only at the end).
        extract_images: write image outputs as files into this folder
            (``None``: no extraction).
        strip_images: with ``extract_images``, drop the base64 payloads from
            the written notebook and keep only the file references.
        strict_images: a broken image payload fails the run
            (``BrokenImagesError``) instead of only warning.
        overwrite_images: replace files in ``extract_images`` even when nbrun
            did not write them for this notebook.
        report_mode: hide code inputs in the written notebook
            (``metadata.jupyter.source_hidden``) and its HTML.
        write_html: also write ``<output>.html`` (nbconvert, the ``html``
            extra), for failed runs too.
        html_allow_scripts: with ``write_html``, let the page's inline
            scripts run (its Content-Security-Policy forbids them otherwise).
        cache: replay an unchanged notebook from this execution cache and
            store new runs in it (``None``: no cache).
        output_root: the folder the target must stay in once its ``..`` are
            resolved (``--output-dir``); a target outside it is refused
            (``NotebookWriteError``) before anything runs.
        images_root: the same for ``extract_images`` (the folder a
            mirrored batch extends with each notebook's subfolder).
        expect: expectations on the values the notebook records
            (``"accuracy >= 0.88"``, see ``nbrun.values.expectations``), besides
            its ``metadata.nbrun.expect``; one that fails makes the run
            ``expectation-failed``.
        environments: build the environment a notebook declares (a PEP 723
            block, ``metadata.uv``, a uv lock) and run its kernel there;
            ``None`` ignores the declarations (``--env none``).
    """

    autosave_seconds: float | None = None
    extract_images: Path | Location | None = None  # Location: a remote folder (see nbrun.storage.locations)
    strip_images: bool = False
    strict_images: bool = False
    overwrite_images: bool = False
    report_mode: bool = False
    write_html: bool = False
    html_allow_scripts: bool = False
    cache: CacheSettings | None = None
    output_root: Path | Location | None = None
    images_root: Path | Location | None = None
    expect: tuple[str, ...] = ()
    environments: EnvironmentSettings | None = field(default_factory=EnvironmentSettings)

    def __post_init__(self) -> None:
        if self.autosave_seconds is not None and self.autosave_seconds <= 0:
            raise ValueError(f"autosave_seconds must be positive, got {self.autosave_seconds}")
        if self.extract_images is not None and not isinstance(self.extract_images, (Path, Location)):
            object.__setattr__(self, "extract_images", Path(os.fspath(self.extract_images)))
        if self.strip_images and self.extract_images is None:
            raise ValueError("strip_images needs extract_images")
        if self.html_allow_scripts and not self.write_html:
            raise ValueError("html_allow_scripts needs write_html")

    def with_changes(self, **changes: object) -> FileOptions:
        """Return a copy with some fields replaced."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class BatchOptions:
    """How many notebooks run at once from one process, and how their kernels start.

    Attributes:
        max_parallel: notebooks executing at once, each in its own kernel.
        fail_fast: after a failure, start no further notebooks.
        fast_start: fork kernels from a warm template process when the
            kernel is this interpreter's ipykernel (falls back to a normal
            launch otherwise).
        preload: extra modules the template imports before forking (see the
            README for the rule that keeps this from changing behaviour).
        prestart: kernels booted ahead while notebooks run (``None``:
            ``max_parallel``, so up to twice that many kernels are alive).
        daemon: with fast start, fork from the kernel daemon's template, which
            outlives the batch (started if none runs; without it, as if False).
    """

    max_parallel: int = 1
    fail_fast: bool = False
    fast_start: bool = True
    preload: tuple[str, ...] = ()
    prestart: int | None = None
    daemon: bool = False

    def __post_init__(self) -> None:
        if self.max_parallel < 1:
            raise ValueError(f"max_parallel must be at least 1, got {self.max_parallel}")
