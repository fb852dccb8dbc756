"""Stripe's secrets from SSM Parameter Store (SecureString), through Powertools Parameters: decrypted,
cached for a few minutes per container, never in code or in plain environment variables. A missing name
or parameter is an error the callers turn into a refusal: webhooks fail closed without their secret."""

from aws_lambda_powertools.utilities import parameters

from casset.errors import Unavailable
from casset.settings import get_settings


class SecretMissing(Unavailable):
    code = "PAYMENTS_UNAVAILABLE"


def _secret(name: str, what: str) -> str:
    if not name:
        raise SecretMissing(f"Payments are not configured ({what} has no parameter name).")
    try:
        value = parameters.get_parameter(name, decrypt=True, max_age=get_settings().stripe_secret_max_age_sec)
    except parameters.exceptions.GetParameterError as error:
        raise SecretMissing(f"Payments are not configured ({what} could not be read).") from error
    if not isinstance(value, str) or not value.strip():
        raise SecretMissing(f"Payments are not configured ({what} is empty).")
    return value.strip()


def stripe_api_key() -> str:
    return _secret(get_settings().stripe_api_key_parameter, "the Stripe API key")


def webhook_secret(endpoint: str) -> str:
    """The signing secret of one endpoint: "platform" or "connect" (each endpoint has its own)."""
    settings = get_settings()
    name = (
        settings.stripe_connect_webhook_secret_parameter
        if endpoint == "connect"
        else settings.stripe_webhook_secret_parameter
    )
    return _secret(name, f"the {endpoint} webhook signing secret")
