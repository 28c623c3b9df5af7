"""Batch runs: the pipeline over files, output state (locks, done-markers) and progress."""
