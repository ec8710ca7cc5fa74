"""The case notes: their template, how pasted notes are read back, and their quality checks."""
