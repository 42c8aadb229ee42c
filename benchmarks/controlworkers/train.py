# Benchmark train worker: records when its process started, writes a minimal KB index, exits.
import json
import os
import time

START = time.time()
with open(os.environ["START_LOG"], "a") as f:
    f.write(f"{os.environ.get('WORKER_NAME')} {START}\n")
out = os.environ["OUTPUT_URL"]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schema_version": 1, "version": 1, "task_groups": []}, f)
