"""Errors that reach the user as one line on stderr (see ``cli/main.py``)."""


class KgdncError(Exception):
    """A failure that is not the user's fault; the CLI exits with code 1."""

    exit_code = 1


class UserError(KgdncError):
    """Bad input (a file, a name, an option); the CLI exits with code 2.

    The message names the problem and the fix, on one line.
    """

    exit_code = 2
