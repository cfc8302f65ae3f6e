"""The one error type every layer raises for bad input or refused actions.

The CLI prints ``str(error)`` as a single line and exits non-zero; the console shows it as a toast
or an inline form message. Messages are already translated when raised (they go through ``_``).
"""


class WindtuiError(Exception):
    """A user-facing, one-line error that names the thing that is wrong."""

    exit_code: int = 1


class NotFound(WindtuiError):
    """An unknown farm, turbine, ticket, technician or calendar."""

    exit_code = 3


class Refused(WindtuiError):
    """An action that the lifecycle, a role or a version check refuses."""

    exit_code = 4


class Conflict(Refused):
    """Someone else changed the record since it was read (optimistic version check)."""

    exit_code = 5


class Forbidden(Refused):
    """A role check refused the caller: who tried what, and which roles may (exit 4).

    The services record every one in the refusal log (outside the hash chain).
    """

    def __init__(self, message: str, *, operation: str, target: str = "", needed: str = ""):
        super().__init__(message)
        self.operation = operation
        self.target = target
        self.needed = needed
