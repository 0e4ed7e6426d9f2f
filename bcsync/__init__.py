"""bcsync: permissions as code for TikTok Business Center."""

__version__ = "0.1.0"
