"""What can go wrong talking to the identity platform and Microsoft Graph.

The outbox that drives group-chat creation needs to tell three things apart: a failure worth
retrying later (:class:`GraphTransientError`), one an admin must fix (:class:`GraphAuthError`,
:class:`GraphPermissionError`), and a plain refusal (:class:`GraphError`). Each message is
written to be shown to the case owner as is.
"""

from __future__ import annotations

__all__ = ["GraphAuthError", "GraphError", "GraphPermissionError", "GraphTransientError"]


class GraphAuthError(Exception):
    """The identity platform (via msal) refused to issue a token for the app.

    ``error`` and ``error_description`` are msal's; ``hint`` says which setting to check;
    ``purpose`` what the token was for (Graph, the Bot Connector).
    """

    def __init__(
        self, error: str, error_description: str, hint: str, *, purpose: str = "Graph"
    ) -> None:
        self.error = error
        self.error_description = error_description
        self.hint = hint
        super().__init__(f"Could not get a {purpose} token: {error}: {error_description} {hint}")


class GraphError(Exception):
    """Graph answered with an error: HTTP ``status`` and Graph's ``error.code``/``message``."""

    def __init__(
        self, status: int, code: str, message: str, *, request_id: str | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        # Graph's request-id is what Microsoft support asks for when a call misbehaves.
        self.request_id = request_id
        text = f"Graph answered HTTP {status} {code}: {message}"
        if request_id:
            text += f" (request-id {request_id})"
        super().__init__(text)


class GraphTransientError(GraphError):
    """Graph stayed throttled/unavailable (429, 502-504) through every attempt, or could not
    be reached at all (``status`` 0). Worth trying again later."""


class GraphPermissionError(GraphError):
    """Graph answered 403: the app lacks an application permission, or admin consent."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        permissions: tuple[str, ...],
        resource_specific: str = "",
        request_id: str | None = None,
    ) -> None:
        self.permissions = permissions
        self.resource_specific = resource_specific
        named = " or ".join(permissions)
        advice = (
            f"An administrator must grant the app the Microsoft Graph application permission "
            f"{named} and give admin consent for the tenant. Graph said: {code}: {message}"
        )
        if resource_specific:
            # Least privilege first: the app package asks this of whoever installs it.
            advice = (
                f"The app asks {resource_specific} (resource-specific consent) of whoever "
                f"installs it in the team or chat: allow resource-specific consent in the "
                f"Teams admin center and update the app there; or else an administrator "
                f"grants the tenant-wide application permission {named} with admin consent. "
                f"Graph said: {code}: {message}"
            )
        super().__init__(status, code, advice, request_id=request_id)
