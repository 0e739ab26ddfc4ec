"""Subcommands of the ``monitor`` command, one module each."""
