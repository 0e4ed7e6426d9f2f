"""Auditor features: read-only views of access, its history and drift. They never write a BC."""
