"""The two ways a card call is refused after it was read: bad input, or a business rule."""

from __future__ import annotations


class RequestInvalid(Exception):
    """The request is malformed: HTTP 400 (a required field is missing) or 422 (a value is invalid).

    :param status: 400 or 422.
    :param field: the API field at fault (``request`` for the body as a whole).
    :param problem: what is wrong, in words.
    """

    def __init__(self, status: int, field: str, problem: str) -> None:
        self.status = status
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class BusinessError(Exception):
    """EnKash understood the request and refused it: HTTP 200 with code 1 and the message in the payload."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)
