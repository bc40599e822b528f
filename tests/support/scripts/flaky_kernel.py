"""A kernel launcher that fails its first start and works afterwards.

Usage (as a kernelspec argv): python flaky_kernel.py STATE_FILE -f {connection_file} ...
The first time (STATE_FILE missing) it creates STATE_FILE, writes a line to
stderr and exits 1; later it exec's ipykernel with the remaining arguments.
"""

import os
import sys

state = sys.argv[1]
if not os.path.exists(state):
    with open(state, "w") as handle:
        handle.write("failed once\n")
    sys.stderr.write("flaky kernel: failing the first start on purpose\n")
    sys.exit(1)
with open(state, "a") as handle:
    handle.write("started\n")
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *sys.argv[2:]])
