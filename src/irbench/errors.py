"""The one exception type irbench raises for bad input: a one-line message naming the file or key."""


class IrbenchError(Exception):
    """A user-facing error whose message is one line naming the path or key and what was expected."""
