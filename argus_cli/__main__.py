"""`python -m argus_cli` runs the CLI."""

from argus_cli.cli import main

main()
