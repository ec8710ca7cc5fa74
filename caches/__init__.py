"""What this process remembers of recent things, kept compact: below every other package, so
the use cases, the stores and the Teams edge keep their per-person memory the same way."""
