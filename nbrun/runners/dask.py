"""Running a batch on a Dask cluster: one task per notebook (the ``dask`` extra).

Each notebook goes through the same file pipeline as a local run
(``nbrun.pipeline.core``): the client reads and prepares it, a worker runs the
``execute`` stage with nbrun's own executor (the kernel is a child of the
worker) and returns the executed notebook and its run record; the client
post-processes and writes it, exactly as a local run does. Workers need the notebook's folder at the same absolute path
(the kernel starts there), e.g. through a shared filesystem.

Retries cover infrastructure only: a kernel that cannot start (the task
raises, Dask re-runs it up to ``retries`` times) and a worker lost mid-run
(the scheduler re-runs it; for ``local:N`` clusters nbrun sets the scheduler's
``allowed_failures`` to ``retries``, an existing scheduler keeps its own
``distributed.scheduler.allowed-failures``). A notebook's own failure is a
normal result and is never re-run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import uuid
from dataclasses import dataclass, field, replace
from multiprocessing import resource_tracker
from typing import Any

import nbformat

from ..control import RunControl
from ..errors import (
    DaskConnectError,
    DaskTaskError,
    KernelError,
    KernelStartError,
    MissingExtraError,
    NbrunError,
    WorkerLostError,
)
from ..events import ExecutionObserver
from ..options import ExecuteOptions
from ..pipeline.core import ExecuteStage, Prepared
from ..pipeline.default import DEFAULT_PIPELINE
from ..result import ExecutionResult
from ..storage.locations import Where
from .batch import BatchJob, SkipJob

_FAIL_FAST = "not run: an earlier notebook failed (--fail-fast)"
_POLL_SECONDS = 0.5


def import_distributed() -> Any:
    """Import ``distributed`` or raise MissingExtraError naming the dask extra."""
    try:
        import distributed
    except ImportError:
        raise MissingExtraError("--dask", "dask") from None
    return distributed


def local_workers(address: str) -> int | None:
    """N for ``local:N``, None for a scheduler address; ValueError if malformed."""
    if not address.startswith("local:"):
        return None
    count = address[len("local:") :]
    if not count.isdigit() or int(count) < 1:
        raise ValueError(f"{address!r}: expected local:N with N >= 1 workers")
    return int(count)


@dataclass
class _Returned:
    """What a task sends back: a result, a non-retried error, or a skip."""

    result: ExecutionResult | None = None
    error: NbrunError | None = None
    skipped: str | None = None
    warnings: list[str] = field(default_factory=list)


class _Collector(ExecutionObserver):
    """Keeps the warnings of a run on the worker, to replay them on the client."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, text: str) -> None:
        self.warnings.append(text)


class DaskRunner:
    """The batch ``Runner`` for a Dask cluster; use ``async with DaskRunner(...)``.

    *address* is a scheduler address (``tcp://host:8786``) or ``local:N`` for
    a LocalCluster of N single-threaded worker processes on 127.0.0.1,
    closed again on exit. With *fail_fast*, a failure skips the notebooks
    that have not started yet.

    The batch's state lives in one Dask ``Variable`` (``{"skip": reason,
    "stop": reason, "forced": bool}``): a task that starts after ``skip`` is set
    returns at once; running tasks poll it and stop their kernel on ``stop``.
    """

    def __init__(
        self, address: str, *, retries: int = 1, fail_fast: bool = False, connect_timeout: float = 30.0
    ) -> None:
        self._dd = import_distributed()
        self.address = address
        self.workers = local_workers(address)
        self.retries = max(0, retries)
        self.fail_fast = fail_fast
        self.connect_timeout = connect_timeout
        self.client: Any = None
        self._cluster: Any = None
        self._state_name = f"nbrun-batch-{uuid.uuid4().hex}"
        self._state: dict[str, Any] = {"skip": None, "stop": None, "forced": False}
        self._futures: dict[str, Any] = {}
        self._cancelled: dict[str, str] = {}
        self._submitted = 0
        self._watchers: dict[int, asyncio.Task[None]] = {}

    async def __aenter__(self) -> DaskRunner:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Connect to the scheduler (or start the local cluster)."""
        dd = self._dd
        try:
            if self.workers is not None:
                _start_resource_tracker()
                self._cluster = await dd.LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    asynchronous=True,
                    scheduler_kwargs={"allowed_failures": self.retries, "dashboard_address": "127.0.0.1:0"},
                    preload=[__name__],
                )
                self.client = await dd.Client(self._cluster, asynchronous=True)
            else:
                self.client = await dd.Client(self.address, asynchronous=True, timeout=self.connect_timeout)
            await self._publish()
        except (OSError, asyncio.TimeoutError, ValueError) as exc:
            await self.close()
            what = "start a local Dask cluster" if self.workers else f"connect to the Dask scheduler at {self.address}"
            raise DaskConnectError(f"cannot {what}: {exc}") from None

    async def close(self) -> None:
        """Forget the stop flags and close what this runner created."""
        for task in self._watchers.values():
            task.cancel()
        self._watchers.clear()
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self._dd.Variable(self._state_name, client=self.client).delete()
            with contextlib.suppress(Exception):
                await self.client.close()
            self.client = None
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                await self._cluster.close()
            self._cluster = None

    async def __call__(self, job: BatchJob, observer: ExecutionObserver, control: RunControl) -> ExecutionResult:
        """Run *job* through the file pipeline; only its ``execute`` stage runs on the cluster."""
        assert self.client is not None, "DaskRunner used before start()"
        self._watch(control)
        try:
            result = await DEFAULT_PIPELINE.executing(self._remote_execute(observer)).run(job.file_run, observer)
        except SkipJob:
            raise
        except NbrunError:
            await self._after_failure()
            raise
        if not result.ok:
            await self._after_failure()
        return result

    def _remote_execute(self, observer: ExecutionObserver) -> ExecuteStage:
        """The ``execute`` stage: send the prepared notebook to a worker, replay what it reports."""
        from ..notebook.format import notebook_to_text

        async def execute(prepared: Prepared) -> ExecutionResult:
            returned = await self._submit(prepared.run.source, notebook_to_text(prepared.notebook), prepared.options)
            for text in returned.warnings:
                observer.warning(text)
            if returned.skipped is not None:
                raise SkipJob(returned.skipped)
            if returned.error is not None:
                raise returned.error
            assert returned.result is not None
            result = replace(returned.result, notebook=nbformat.from_dict(returned.result.notebook))
            observer.notebook_finished(result)
            return result

        return execute

    async def _submit(self, source: Where, text: str, options: ExecuteOptions) -> _Returned:
        key = f"nbrun-{source.stem}-{uuid.uuid4().hex}"
        self._submitted += 1  # earlier notebooks first, as in a local batch
        future = self.client.submit(
            _run_on_worker,
            text,
            options,
            self._state_name,
            key=key,
            pure=False,
            retries=self.retries,
            priority=-self._submitted,
        )
        self._futures[key] = future
        try:
            return await future  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            if key in self._cancelled:
                raise SkipJob(self._cancelled[key]) from None
            if future.status != "cancelled":
                raise  # this coroutine itself was cancelled
            raise DaskTaskError("the Dask task was cancelled (scheduler or connection lost?)") from None
        except NbrunError:
            raise
        except self._dd.KilledWorker as exc:
            lost = int(getattr(exc, "allowed_failures", 0)) + 1
            last = getattr(getattr(exc, "last_worker", None), "address", "unknown")
            raise WorkerLostError(f"its Dask worker was lost {lost} time(s) while running it (last: {last})") from None
        except Exception as exc:  # noqa: BLE001 - any other task failure is infrastructure
            raise DaskTaskError(f"the Dask task failed: {type(exc).__name__}: {exc}") from None
        finally:
            self._futures.pop(key, None)
            if not future.done():
                with contextlib.suppress(Exception):
                    await self.client.cancel([future])
            future.release()

    def _watch(self, control: RunControl) -> None:
        """Relay a stop request on *control* to the cluster (once per control)."""
        if id(control) not in self._watchers:
            self._watchers[id(control)] = asyncio.ensure_future(self._relay_stop(control))

    async def _relay_stop(self, control: RunControl) -> None:
        await control.wait()
        reason = control.reason or "stop requested"
        await self._skip_the_rest(f"not run: {reason}", stop=reason)
        while not control.forced:
            await asyncio.sleep(0.2)
        self._state["forced"] = True
        await self._publish()

    async def _publish(self) -> None:
        await self._dd.Variable(self._state_name, client=self.client).set(dict(self._state))

    async def _after_failure(self) -> None:
        if self.fail_fast and self._state["skip"] is None:
            await self._skip_the_rest(_FAIL_FAST)

    async def _skip_the_rest(self, reason: str, stop: str | None = None) -> None:
        """Tell tasks not yet started to skip (and running ones to stop); cancel those still queued.

        The flag is published first, so a task dispatched after the snapshot
        of what workers hold sees it when it starts and returns at once.
        """
        self._state["skip"] = self._state["skip"] or reason
        self._state["stop"] = stop or self._state["stop"]
        await self._publish()
        processing = await self.client.processing()
        held = {key for keys in processing.values() for key in keys}
        victims = [future for key, future in self._futures.items() if key not in held and key not in self._cancelled]
        for future in victims:
            self._cancelled[future.key] = reason
        if victims:
            await self.client.cancel(victims)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (local workers are spawned) so that a hang-up spares it.

    It sits in nbrun's process group and ignores SIGINT and SIGTERM but not
    SIGHUP; killed, it is relaunched and prints a traceback for each
    semaphore it never saw. SIG_IGN survives its exec; nbrun's handler is put back.
    """
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is None or threading.current_thread() is not threading.main_thread():
        return  # no hang-ups (Windows), or signals cannot be set here: it starts with the first worker
    previous = signal.getsignal(hangup)
    if previous is None:  # a handler set outside Python: it could not be put back
        return
    signal.signal(hangup, signal.SIG_IGN)
    try:
        resource_tracker.ensure_running()
    finally:
        signal.signal(hangup, previous)


def dask_setup(worker: Any) -> None:
    """Worker preload hook (``local:N``): leave nbrun's process group, ignore Ctrl-C.

    Local workers are spawned in nbrun's process group, so a signal to the
    group (a terminal's Ctrl-C or hang-up, ``timeout``, ``kill -- -PGID``, a CI
    cancel) would kill them, or their kernels, before nbrun relays the stop and
    collects the partial notebooks. In a session of their own only nbrun gets
    it and drives the shutdown; a worker still exits when nbrun does (the
    nanny's pipe closes).
    """
    with contextlib.suppress(OSError, AttributeError):  # already a session leader; no sessions (Windows)
        os.setsid()
    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_on_worker(text: str, options: ExecuteOptions, state_name: str) -> _Returned:
    """The task: execute one notebook on this worker (raises only for infrastructure)."""
    import distributed

    from ..notebook.format import parse_notebook
    from ..pipeline.core import execute_notebook

    client = distributed.get_client()
    state = distributed.Variable(state_name, client=client)  # type: ignore[no-untyped-call]
    skip = _read_state(state).get("skip")
    if skip:
        return _Returned(skipped=skip)
    if options.cwd is not None and not options.cwd.is_dir():
        raise KernelStartError(
            f"the kernel folder {options.cwd} does not exist on Dask worker "
            f"{distributed.get_worker().address} (workers need the notebook's folder "
            "at the same path, e.g. a shared filesystem)"
        )
    nb = parse_notebook(text)
    collector = _Collector()
    done = threading.Event()

    async def run() -> ExecutionResult:
        control = RunControl()
        loop = asyncio.get_running_loop()
        watcher = threading.Thread(
            target=_watch_stop, args=(state, loop, control, done), name="nbrun-stop-watch", daemon=True
        )
        watcher.start()
        try:
            return await execute_notebook(nb, options, observer=collector, control=control)  # prepared on the client
        finally:
            done.set()
            await asyncio.to_thread(watcher.join, 10)

    try:
        result = asyncio.run(run())
    except KernelError:
        raise  # a kernel that could not start: Dask retries the task
    except NbrunError as exc:
        return _Returned(error=exc, warnings=collector.warnings)
    return _Returned(result=result, warnings=collector.warnings)


def _read_state(variable: Any) -> dict[str, Any]:
    """The batch state; an unreadable one counts as "carry on"."""
    try:
        state = variable.get(timeout=2)
    except Exception:  # noqa: BLE001 - scheduler briefly unreachable
        return {}
    return state if isinstance(state, dict) else {}


def _watch_stop(state: Any, loop: asyncio.AbstractEventLoop, control: RunControl, done: threading.Event) -> None:
    """Thread: poll the batch state; turn ``stop``/``forced`` into stop requests on *control*."""
    requests = 0
    while not done.wait(_POLL_SECONDS):
        current = _read_state(state)
        wanted = (1 if current.get("stop") else 0) + (1 if current.get("stop") and current.get("forced") else 0)
        try:
            while requests < wanted:
                requests += 1
                loop.call_soon_threadsafe(control.request_stop, current["stop"])
        except RuntimeError:  # the run's loop is already closed
            return
        if requests == 2:
            return
