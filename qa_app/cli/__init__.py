"""The ``qa-app`` command: its commands and the evaluation command."""
