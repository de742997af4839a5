"""Errors a user can cause. The CLI prints them as one line and exits with status 2."""


class UserError(Exception):
    """Bad input from the user: a flag, a file, a model name. One line, exit 2."""

    exit_code = 2
