"""A corpus of constructed papers with planted slips, for the audit's precision and recall."""
