"""Unseen-task detection: recognition at inference, re-recognition at update."""
