"""``python -m agent`` runs the sigap CLI."""

from agent.cli import main

main()
