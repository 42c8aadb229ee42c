"""Unseen-task processing."""
