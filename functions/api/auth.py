"""The caller, from the claims API Gateway's JWT authorizer put in the event."""

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from casset.rules import Caller
from casset.settings import get_settings


def _groups(raw: object) -> frozenset[str]:
    # HTTP API flattens array claims into a string such as "[admin editors]".
    if isinstance(raw, list):
        return frozenset(str(group) for group in raw)
    if isinstance(raw, str):
        return frozenset(raw.strip("[]").replace(",", " ").split())
    return frozenset()


def caller_of(event: APIGatewayProxyEventV2) -> Caller:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims") or {}
    subject = claims.get("sub")
    if not subject:
        return Caller()
    return Caller(user_id=str(subject), groups=_groups(claims.get(get_settings().groups_claim)))
