"""`python -m paperfeed` runs the command-line interface."""

from paperfeed.cli.app import main

main()
