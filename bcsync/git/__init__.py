"""Configs at a git revision, and what changed between two revisions."""
