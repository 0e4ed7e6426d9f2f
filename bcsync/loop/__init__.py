"""The loop: plan every BC, check the reviewed plan, apply, audit (`sync` is the whole of it)."""
