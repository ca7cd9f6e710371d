"""``python -m caselens`` runs the command line."""

from caselens.cli.app import entry_point

entry_point()
