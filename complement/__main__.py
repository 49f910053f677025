"""``python -m complement``: the command line."""

from complement.cli.app import main

main()
