"""The service's errors, as operations raise them.

Operations raise these without knowing HTTP; the protocol layer turns any of them into the wire
form botocore parses (`x-amzn-ErrorType`, `{"message": ...}` plus modeled members). The status
codes here are defaults: for codes the botocore model defines, the serializer uses the model's
status (a test checks that both agree).
"""

from __future__ import annotations

# An error message lists this many validation failures at most (a list of 10,000 bad values
# must not make a megabyte of message).
MAX_LISTED_FAILURES = 10


class ServiceError(Exception):
    code = "InternalServerException"
    status = 500

    def __init__(self, message: str, **members: object) -> None:
        super().__init__(message)
        self.message = message
        self.members = {k: v for k, v in members.items() if v is not None}


class ValidationException(ServiceError):
    code = "ValidationException"
    status = 400

    @classmethod
    def from_failures(cls, failures: list[str]) -> ValidationException:
        """AWS style: '2 validation errors detected: A; B'."""
        n = len(failures)
        noun = "error" if n == 1 else "errors"
        shown = failures[:MAX_LISTED_FAILURES]
        more = f"; and {n - len(shown)} more" if n > len(shown) else ""
        return cls(f"{n} validation {noun} detected: " + "; ".join(shown) + more)


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"
    status = 404

    def __init__(self, message: str, resource_name: str | None = None) -> None:
        super().__init__(message, resourceName=resource_name)


class ConflictException(ServiceError):
    code = "ConflictException"
    status = 409


class ServiceQuotaExceededException(ServiceError):
    code = "ServiceQuotaExceededException"
    status = 402


class TooManyTagsException(ServiceError):
    code = "TooManyTagsException"
    status = 400

    def __init__(self, message: str, resource_name: str | None = None) -> None:
        super().__init__(message, resourceName=resource_name)


class AccessDeniedException(ServiceError):
    code = "AccessDeniedException"
    status = 403


class RequestTimeoutException(ServiceError):
    code = "RequestTimeoutException"
    status = 408


class PreconditionFailedException(ServiceError):
    code = "PreconditionFailedException"
    status = 412


# Errors of the protocol itself, not modeled in the service (AWS's generic rest-json errors).


class SerializationException(ServiceError):
    code = "SerializationException"
    status = 400


class UnknownOperationException(ServiceError):
    code = "UnknownOperationException"
    status = 404


class RequestEntityTooLargeException(ServiceError):
    code = "RequestEntityTooLargeException"
    status = 413


class NotImplementedOperation(ServiceError):
    code = "NotImplemented"
    status = 501


class InternalServerException(ServiceError):
    code = "InternalServerException"
    status = 500
