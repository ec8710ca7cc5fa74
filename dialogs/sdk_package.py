"""botbuilder.dialogs without its package `__init__`, which imports every prompt of the SDK and,
with them, the text recognizers (numbers, dates, choices in a dozen languages) and emoji data:
17 MB of every bot process and 0.2-0.3 s of every start (measured: RSS after `import app` 98 ->
81 MB). The bot's dialogs are made of DialogSet, WaterfallDialog-like Dialogs of its own and
DialogContext, and ask with cards, never with the SDK's prompts.

The package module is made from its spec without running its `__init__`; the names the bot
and the SDK's own modules import from the package are set on it from their submodules. Any
other name asked of it (a test's TextPrompt, say) runs the real `__init__` then, so nothing
ever fails for want of it: it only costs what it always cost.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

PACKAGE = "botbuilder.dialogs"
# The package's names the bot uses, and those the SDK's modules import from the package itself
# (DialogStateManager: DialogsComponentRegistration, ObjectPath; its dialog memory scopes, made
# for every DialogContext: DialogContainer), by submodule.
_USED = {
    "dialog": ("Dialog",),
    "dialog_container": ("DialogContainer",),
    "dialog_context": ("DialogContext",),
    "dialog_instance": ("DialogInstance",),
    "dialog_reason": ("DialogReason",),
    "dialog_set": ("DialogSet",),
    "dialog_state": ("DialogState",),
    "dialog_turn_result": ("DialogTurnResult",),
    "dialog_turn_status": ("DialogTurnStatus",),
    "dialogs_component_registration": ("DialogsComponentRegistration",),
    "object_path": ("ObjectPath",),
}


def load_only_what_is_used() -> None:
    """Makes `botbuilder.dialogs` the lean package, unless it is imported already."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None:
        return
    package = importlib.util.module_from_spec(spec)

    def whole_package(name: str) -> object:
        # PEP 562: asked only for a name not set yet. The real __init__ runs once, into this
        # same module object, and sets every name.
        if name.startswith("__"):
            raise AttributeError(name)
        del package.__getattr__
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(package)
        return getattr(package, name)

    package.__getattr__ = whole_package  # type: ignore[method-assign]
    sys.modules[PACKAGE] = package
    parent = importlib.import_module("botbuilder")
    setattr(parent, "dialogs", package)  # noqa: B010  # as the import system would
    try:
        for module, names in _USED.items():
            loaded: ModuleType = importlib.import_module(f"{PACKAGE}.{module}")
            for name in names:
                setattr(package, name, getattr(loaded, name))
    except BaseException:
        del sys.modules[PACKAGE]
        raise
