"""Write to both streams and exit 1."""
import sys

print("fail.py starting")
print("boom: something went wrong", file=sys.stderr)
sys.exit(1)
