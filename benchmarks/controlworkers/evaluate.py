import json
import os

out = os.environ["OUTPUT_URL"]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schema_version": 1, "version": 1, "task_groups": []}, f)
