"""CLI commands: each module parses options and calls one library function."""
