"""The handoff dialog, on the Bot Framework SDK's dialogs."""

from .sdk_package import load_only_what_is_used

# Before any of the package's modules import the SDK's dialogs (see sdk_package).
load_only_what_is_used()
