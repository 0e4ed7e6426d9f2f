"""The loop: plan every BC, check the reviewed plan, apply, audit, read back what was made."""
