"""What the local launcher starts (:class:`WorkerSpec`), what it keeps of a started worker
(:class:`WorkerRecord`, stored in the runtime's database) and what it sees of one
(:class:`WorkerStatus`)."""

import dataclasses

@dataclasses.dataclass
class WorkerSpec:
    """What to start: one worker of a job.

    ``template`` is a pod template (``{"spec": {"containers": [...], "volumes": [...]}}``);
    ``env`` the contract variables (see the module docstring for precedence);
    ``output_dir`` the job's ``outputDir`` (a confined worker may read and write all of it).
    """

    name: str
    namespace: str = "default"
    job: str = ""
    stage: str = "train"
    round: int = 0
    template: dict = dataclasses.field(default_factory=dict)
    env: dict = dataclasses.field(default_factory=dict)
    output_dir: str = ""


@dataclasses.dataclass
class WorkerRecord:
    """A started worker, as stored in the database (``to_dict``/``from_dict``).

    ``pid`` is the wrapper's pid (= process group and session id);
    ``start_time`` its kernel start time and ``boot_id`` the boot it ran in,
    which together recognise the same process after a controller restart.
    """

    name: str
    namespace: str
    pid: int
    start_time: int
    log_path: str
    cwd: str
    argv: list
    created_at: float
    exit_file: str
    temp_dirs: list = dataclasses.field(default_factory=list)
    boot_id: str = ""
    log_offset: int = 0
    job: str = ""
    stage: str = ""
    round: int = 0
    memory_limit: int = 0

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in dict(data).items() if k in names})


@dataclasses.dataclass
class WorkerStatus:
    """``phase``: Running | Succeeded | Failed | Unknown; ``exit_code`` when known (``-N``: signal N)."""

    phase: str
    exit_code: int = None
    log_tail: str = ""
    finished_at: float = None
