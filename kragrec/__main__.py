"""`python -m kragrec` runs the CLI."""

from kragrec.cli import main

main()
