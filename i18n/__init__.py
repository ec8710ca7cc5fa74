"""The bot's words in the reader's language: message catalogs, the language of the turn, and
dates, numbers and lists formatted for it."""

from .catalogs import (
    N_,
    NC_,
    _,
    current,
    in_english,
    ngettext,
    pgettext,
    speaking,
    translations,
)

__all__ = [
    "NC_",
    "N_",
    "_",
    "current",
    "in_english",
    "ngettext",
    "pgettext",
    "speaking",
    "translations",
]
