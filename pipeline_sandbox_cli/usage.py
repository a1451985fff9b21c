"""Exit codes and the error for bad usage."""

EXIT_OK = 0
EXIT_FAILED = 1
"""A sandbox refused or failed, a stack could not be read, or the backend failed."""
EXIT_USAGE = 2
"""Bad usage: unknown option or stack, a tier stack named, a bad value."""


class UsageError(Exception):
    """The command line asks for something that cannot be done; the message says what would work."""
