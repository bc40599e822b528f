"""The nbrun subcommands."""
