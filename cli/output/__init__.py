"""What the command shows and writes: live lines, summaries, records, events."""
