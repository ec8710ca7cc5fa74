"""The compose box's search over handoffs (application/compose/search.py)."""
