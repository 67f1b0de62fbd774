"""The exception family that the command line turns into exit code 2.

    EvalLockError            any failure the user can fix; the message says how
    ├── ConfigError          .evallock.toml is missing, malformed or invalid
    ├── LockfileError        eval.lock is malformed, too new or conflicted
    ├── InputError           a prompt, dataset, checkpoint or scorer file is bad
    ├── GitError             no repository, shallow history, unknown revision
    ├── StoreError           the result store cannot be read or written
    └── RunError             the cold run could not start or finish

Every message is one plain sentence that names the file, value or setting at
fault and what to do about it.
"""


class EvalLockError(Exception):
    """A failure the user can fix; ``str(error)`` is the message shown."""


class ConfigError(EvalLockError):
    pass


class LockfileError(EvalLockError):
    pass


class InputError(EvalLockError):
    pass


class GitError(EvalLockError):
    pass


class StoreError(EvalLockError):
    pass


class RunError(EvalLockError):
    pass
