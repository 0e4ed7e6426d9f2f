"""Reading hostile files: a bounded regular file (`reader`), located YAML (`composer`).

Config, seed and plan files are read through here, so the rules for reading a file an attacker
may have written live in one place. This package sits below both the client and the emulator: it
imports only the standard library and pyyaml, never another part of bcsync, and its errors carry
facts (a size, a line and column) that each caller words for its own users.
"""
