"""Run the nbrun CLI and record this process's peak RSS (KiB on Linux).

Usage: python rss_wrapper.py RSS_FILE nbrun-arguments...
"""

import resource
import sys

rss_file = sys.argv[1]
sys.argv = ["nbrun", *sys.argv[2:]]
try:
    from nbrun.cli import main

    main()
finally:
    with open(rss_file, "w") as handle:
        handle.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
