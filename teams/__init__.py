"""The Teams edge: the Bot Framework transport, the activity handlers that turn activities into
requests and results into activities, and the turn middleware. The only package that imports the
Bot Framework SDK (with dialogs/ and the dialog-state store)."""
