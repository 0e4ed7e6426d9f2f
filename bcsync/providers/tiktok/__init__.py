"""The TikTok Business API provider: client, mapping, reading and writing."""
