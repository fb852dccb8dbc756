"""Domain errors. Each carries a stable machine-readable code; the API maps them to HTTP in one place."""

from http import HTTPStatus


class DomainError(Exception):
    status = HTTPStatus.BAD_REQUEST
    code = "BAD_REQUEST"
    retry_after_sec: int | None = None  # sent as Retry-After when set

    def __init__(self, message: str, *, code: str | None = None, details: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []


class BadRequest(DomainError):
    pass


class Unauthorized(DomainError):
    status = HTTPStatus.UNAUTHORIZED
    code = "UNAUTHORIZED"


class Forbidden(DomainError):
    status = HTTPStatus.FORBIDDEN
    code = "FORBIDDEN"


class NotFound(DomainError):
    status = HTTPStatus.NOT_FOUND
    code = "NOT_FOUND"


class Conflict(DomainError):
    status = HTTPStatus.CONFLICT
    code = "CONFLICT"


class PayloadTooLarge(DomainError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "PAYLOAD_TOO_LARGE"


class RateLimited(DomainError):
    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_sec: int, code: str | None = None):
        super().__init__(message, code=code)
        self.retry_after_sec = retry_after_sec


class Unavailable(DomainError):
    """A dependency refused or throttled us; the caller may retry."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "UNAVAILABLE"


class FeatureDisabled(Forbidden):
    """A feature flag (casset.flags) is off for this caller and artist."""

    code = "FEATURE_DISABLED"

    def __init__(self, feature: str, label: str):
        super().__init__(f"{label} is not available yet.", details=[{"feature": feature}])
        self.feature = feature


class FlagsUnavailable(Unavailable):
    """No feature flag document could be read, so a launched feature's state is unknown; retry."""

    code = "FLAGS_UNAVAILABLE"


class RenderQueueFull(Unavailable):
    """As many renders as the platform runs at once are already queued or rendering; retry shortly."""

    code = "RENDER_QUEUE_FULL"

    def __init__(self, message: str, *, retry_after_sec: int):
        super().__init__(message)
        self.retry_after_sec = retry_after_sec
