"""Per-cell floor: a bare jupyter_client loop on one already-started kernel.

One ``BlockingKernelClient``; ``x = i`` is sent N times serially, each time waiting for
the ``execute_reply`` on shell *and* the matching ``status: idle`` on IOPub (what any
executor must wait for to know a cell's outputs are complete). Kernel start-up,
a 20-cell warm-up and shutdown are outside the timed region. The kernel gets
``--HistoryManager.hist_file=:memory:`` and cells ``store_history=True``, as nbclient
and nbrun do. Prints one JSON object: ms_per_cell, kernel_cpu_ms_per_cell, cells.

Usage:  python bench/raw_loop.py [--cells N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from collections.abc import Iterator

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

KERNEL_ARGS = ["--HistoryManager.hist_file=:memory:"]
WARMUP_CELLS = 20
TIMEOUT_S = 60.0


def run_cell(kc: BlockingKernelClient, code: str) -> None:
    msg_id = kc.execute(code, store_history=True, stop_on_error=True)
    while True:  # the reply on shell
        reply = kc.get_shell_msg(timeout=TIMEOUT_S)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"cell {code!r} failed: {reply['content']}")
    while True:  # and the kernel going idle on IOPub for this request
        msg = kc.get_iopub_msg(timeout=TIMEOUT_S)
        if (
            msg["parent_header"].get("msg_id") == msg_id
            and msg["msg_type"] == "status"
            and msg["content"]["execution_state"] == "idle"
        ):
            return


def proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def ready_kernel() -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    """A python3 kernel with its client's channels open and ready; shut down on exit."""
    km = KernelManager(kernel_name="python3")
    km.start_kernel(extra_arguments=KERNEL_ARGS)
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=TIMEOUT_S)
        yield km, kc
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=500)
    args = parser.parse_args()
    with ready_kernel() as (km, kc):
        for i in range(WARMUP_CELLS):
            run_cell(kc, f"x = {i}")
        kernel_pid = km.provisioner.process.pid  # type: ignore[union-attr]
        k0 = proc_cpu_s(kernel_pid)
        t0 = time.perf_counter()
        for i in range(args.cells):
            run_cell(kc, f"x = {i}")
        elapsed = time.perf_counter() - t0
        k1 = proc_cpu_s(kernel_pid)
    print(
        json.dumps(
            {
                "cells": args.cells,
                "ms_per_cell": elapsed / args.cells * 1000,
                "kernel_cpu_ms_per_cell": (k1 - k0) / args.cells * 1000,
            }
        )
    )


if __name__ == "__main__":
    main()
