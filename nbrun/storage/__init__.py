"""Where bytes go: local paths and URLs, atomic writes, locks, leftovers."""
