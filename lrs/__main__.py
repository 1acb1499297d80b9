"""`python -m lrs` runs the `lrs` command."""

from lrs.cli import main

main()
