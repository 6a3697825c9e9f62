"""The one exception type the CLI and the web app turn into a clear French message."""

from __future__ import annotations


class MaillageError(Exception):
    """An error caused by the user's input or environment, with a message in French.

    The message names the file, line or field at fault. The CLI prints it and exits
    non-zero; the web app shows it on a French page. Programming errors are not
    ``MaillageError`` and keep their traceback.
    """

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details or [])

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {d}" for d in self.details)
