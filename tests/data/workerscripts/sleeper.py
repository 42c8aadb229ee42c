"""Start a `sleep 60` child, write both pids to CHILD_PID_FILE, then sleep."""
import os
import subprocess
import time

child = subprocess.Popen(["sleep", "60"])
tmp = os.environ["CHILD_PID_FILE"] + ".tmp"
with open(tmp, "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
os.replace(tmp, os.environ["CHILD_PID_FILE"])
print("sleeping", flush=True)
time.sleep(60)
