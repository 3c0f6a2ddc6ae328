"""`python -m bot` runs the same CLI as the `borgerbot` console script."""

from bot.cli import main

main()
