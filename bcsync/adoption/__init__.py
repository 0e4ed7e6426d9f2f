"""Adopting a live Business Center: read all of it and write it as a config."""
