"""Every exception sedna raises on purpose, in one place.

Each subclasses the built-in exception a caller would already catch, so code
written for the original library (which raised ``ValueError`` and friends)
keeps working.
"""


class SednaError(Exception):
    """Base class of all sedna errors."""


class RegistryError(SednaError, ValueError):
    """A plugin registry problem (duplicate or unknown name)."""


class DuplicateRegistrationError(RegistryError):
    """A different class was registered under a name that is already taken."""


class UnknownPluginError(RegistryError, KeyError):
    """A plugin name that is not registered for the requested type."""

    def __str__(self):  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class PluginParamError(SednaError, ValueError):
    """Parameters given to a plugin do not fit the plugin."""


class DataParseError(SednaError, ValueError):
    """A dataset index file has a malformed line.

    ``path`` and ``line`` (1-based) name where; ``reason`` says what.
    """

    def __init__(self, path, line, reason):
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f"{path}:{line}: {reason}")


class DataFileNotFoundError(SednaError, FileNotFoundError):
    """A file that must exist does not."""


class LabelError(SednaError, ValueError):
    """Unseen samples cannot be labelled or read as asked (a missing list, a
    frame without its label file, an entry that names a file outside the store)."""


class EstimatorError(SednaError, TypeError):
    """An estimator does not offer what the caller needs (train/predict/save...)."""


class KnowledgeBaseError(SednaError, RuntimeError):
    """The knowledge base cannot be written or read."""


class CorruptKnowledgeBaseError(KnowledgeBaseError, ValueError):
    """A knowledge base index or artifact is missing, unreadable or inconsistent."""


class ReportError(SednaError, ConnectionError):
    """A worker report could not be delivered to the control plane."""


class ManifestError(SednaError, ValueError):
    """A resource manifest is invalid.

    ``errors`` lists every problem as ``(path, message)``, e.g.
    ``("spec.trainSpec.trigger.condition.operator", "must be one of > >= = == != <= <")``.
    """

    def __init__(self, errors, source=None):
        self.errors = list(errors)
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(f"{p}: {m}" for p, m in self.errors))


class WorkerError(SednaError, RuntimeError):
    """A worker process cannot be started (bad image mapping, missing script...)."""


class NotFound(SednaError, KeyError):
    """A resource, worker or object that does not exist."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class Conflict(SednaError, ValueError):
    """An update based on an old resourceVersion, or a create of an existing name."""


class UnsafeKeyError(SednaError, ValueError):
    """A remote folder holds an object whose key would be written outside the
    local download folder (``..``, absolute, NUL)."""


class NotRegularFile(SednaError, OSError):
    """A path that must be read is a FIFO, device, socket or folder, not a regular file."""


class OutsideOutputDir(SednaError, PermissionError):
    """A file the controller was asked to copy lies outside the job's ``outputDir``."""


class ApiError(SednaError):
    """A non-2xx answer of the API server."""

    def __init__(self, status, message):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class StateDirInUse(SednaError, RuntimeError):
    """Another control plane holds the state folder's lock."""


class FileTooLarge(SednaError, OSError):
    """A file someone less trusted wrote is over the size it may have."""


class StateDirUnsafe(SednaError, PermissionError):
    """The state folder belongs to another user, or others may write in it: its token could be planted."""


class StoreCorrupt(SednaError, RuntimeError):
    """The state database cannot be read; :func:`repair` salvages it."""


class InputError(SednaError, ValueError):
    """Input refused before loading; the message names the source (and line)."""


class NotDeployable(SednaError, ValueError):
    """A knowledge-base version that cannot be served (never evaluated, models gone)."""


class NoSuchVersion(NotDeployable):
    """The knowledge base has no such version."""


class ReportRefused(SednaError, ValueError):
    """A worker's report that cannot be accepted (the message names the field)."""


class UserError(SednaError):
    """A mistake on the command line: printed as one line, exit code 2."""
