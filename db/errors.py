"""Refusals: an operation declines with a catalog key and parameters for the message."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """The operation changes nothing; `key` names the text to show the user."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
