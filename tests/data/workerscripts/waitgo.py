"""Wait (at most 30 s) for the file GO_FILE to appear, then exit with EXIT_CODE (default 0)."""
import os
import sys
import time

print("waiting for", os.environ["GO_FILE"], flush=True)
deadline = time.monotonic() + 30
while not os.path.exists(os.environ["GO_FILE"]) and time.monotonic() < deadline:
    time.sleep(0.02)
print("go", flush=True)
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
