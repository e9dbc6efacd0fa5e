"""Reliability suite: fault soak, hostile input, secret canary, transport safety (issue 8)."""
