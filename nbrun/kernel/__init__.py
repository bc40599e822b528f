"""Talking to one kernel process: start, channels, messages, fast start."""
