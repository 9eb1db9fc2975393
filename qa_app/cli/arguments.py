"""The command's argument types, and the error for a command line that cannot be run as given."""

from __future__ import annotations

import argparse

from qa_app.errors import QaAppError


class UsageError(QaAppError):
    """A command line that cannot be run as given (exit status 2)."""


def positive_int(text: str) -> int:
    """Return ``text`` as a whole number of 1 or more; ArgumentTypeError otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def unit_float(text: str) -> float:
    """Return ``text`` as a number from 0 to 1; ArgumentTypeError otherwise (nan included)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value
