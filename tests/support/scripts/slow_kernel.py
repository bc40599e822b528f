"""A kernel launcher that takes a long time to start (for --startup-timeout tests).

Usage (as a kernelspec argv): python slow_kernel.py SECONDS MARKER -f {connection_file} ...
It sleeps SECONDS in this very process, then exec's ipykernel with the
remaining arguments. MARKER only labels the command line so a test can find
(and prove the absence of) this process.
"""

import os
import sys
import time

seconds = float(sys.argv[1])
time.sleep(seconds)
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *sys.argv[3:]])
