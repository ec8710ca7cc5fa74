"""The transactional outbox: the worker that claims items in ordered lanes, retries and dead
letters, the sends-in-doubt check, and the reports of messages that reached nobody."""
