"""Run the nbrun CLI and record this process's peak RSS (KiB).

Usage: python rss_wrapper.py RSS_FILE nbrun-arguments...

The peak is VmHWM from /proc/self/status, which belongs to this program's own
address space. getrusage's ru_maxrss is not used: on Linux it carries over the
RSS of the process that forked us (pytest, which grows over a long session).
"""

import sys

rss_file = sys.argv[1]
sys.argv = ["nbrun", *sys.argv[2:]]


def peak_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


try:
    from nbrun.cli import main

    main()
finally:
    with open(rss_file, "w") as handle:
        handle.write(str(peak_kib()))
