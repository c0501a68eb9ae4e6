"""Error types with stable codes shared by the CLI (exit codes) and the server (Error messages)."""
from __future__ import annotations


class EmoAnimError(Exception):
    """Base error: ``code`` is stable (clients match on it), the message names the input."""

    code = "internal"
    exit_code = 1


class InputError(EmoAnimError):
    """The caller gave us something we cannot use (bad audio, unknown option value)."""

    code = "bad_input"
    exit_code = 3


class AudioError(InputError):
    code = "bad_audio"


class OutputError(EmoAnimError):
    """We could not write the result where asked (nothing partial is left behind)."""

    code = "output"
    exit_code = 4
