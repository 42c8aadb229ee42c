"""Shared pieces: plugin registry, configuration, file operations, logging, errors."""
