"""The use cases: plain requests in, plain results out; no Teams, no SDK."""
