"""The core: the model, the diff and the plan with its guards. Pure functions, no I/O."""
