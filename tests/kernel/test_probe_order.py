"""The premise of the idle verdict, on a real kernel: a probe's status never overtakes a cell's idle.

The cell runner calls an idle lost when the probe's ``busy`` arrives first;
that is sound only if the kernel publishes on IOPub in the order it works.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from nbrun.kernel.starter import start_local_kernel
from nbrun.options import ExecuteOptions


def test_the_probe_status_comes_after_a_busy_cells_idle(tmp_path: Path) -> None:
    async def go() -> list[tuple[str, str]]:
        kernel = await start_local_kernel("python3", tmp_path, ExecuteOptions())
        try:
            cell = kernel.execute(
                "from IPython.display import display\nfor i in range(3000):\n    display(i)",
                stop_on_error=True,
                allow_stdin=False,
            )
            probe = kernel.probe()  # queued on shell behind the cell, while its IOPub is still busy
            seen: list[tuple[str, str]] = []
            while ("probe", "busy") not in seen:
                msg = await kernel.get_iopub(timeout=60)
                assert msg is not None, f"IOPub went quiet after {seen[-3:]}"
                parent = msg["parent_header"].get("msg_id")
                if msg["msg_type"] == "status" and parent in (cell, probe):
                    seen.append(("cell" if parent == cell else "probe", msg["content"]["execution_state"]))
            return seen
        finally:
            await kernel.close()

    seen = asyncio.run(go())
    assert seen.index(("cell", "idle")) < seen.index(("probe", "busy"))
