"""Connectors read a source and yield plain records; they never touch the store."""
