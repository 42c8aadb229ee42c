"""How the CLI prints resources: ages, tables, YAML, one row per kind."""

from sedna.cli import UserError
from sedna.control.columns import HEADERS, age, dataset_row, job_row, worker_row  # noqa: F401 (re-exported)


def table(rows, headers):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(headers)]
    lines = ["   ".join(str(h).ljust(w) for h, w in zip(headers, widths)).rstrip()]
    for r in rows:
        lines.append("   ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    return "\n".join(lines)


def to_yaml(obj):
    import yaml

    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False)


KIND_ALIASES = {"datasets": "datasets", "dataset": "datasets", "ds": "datasets",
                "lifelonglearningjobs": "lifelonglearningjobs", "lifelonglearningjob": "lifelonglearningjobs",
                "ll": "lifelonglearningjobs", "lljob": "lifelonglearningjobs",
                "workers": "workers", "worker": "workers"}


def plural_of(name):
    try:
        return KIND_ALIASES[name.lower()]
    except KeyError:
        raise UserError(f"unknown resource type {name!r}; use datasets (ds), lifelonglearningjobs (ll) "
                        "or workers") from None


def job_workers_text(job, workers):
    """For `sedna logs <job>`: the job's workers, and which command prints one's log.
    None when ``job`` owns no worker (then the name is simply unknown)."""
    mine = [w for w in workers if w.get("job") == job]
    if not mine:
        return None
    return (f"{job} is a job; its workers:\n" + table([worker_row(w, False) for w in mine], HEADERS["workers"][0])
            + f"\nprint one's log with: sedna logs {mine[-1]['name']}")
