"""The command line's subcommands, one module per area."""
