"""Allocate ALLOC_MB megabytes (default 600) and exit 0; a MemoryError exits non-zero."""
import os

size = int(os.environ.get("ALLOC_MB", "600")) * 1024 * 1024
block = bytearray(size)
block[::4096] = b"\x01" * len(block[::4096])
print("allocated", len(block))
