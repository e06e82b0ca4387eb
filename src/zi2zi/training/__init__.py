"""Training zi2zi: losses, the training loop, checkpoints and logging."""
