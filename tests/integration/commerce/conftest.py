"""The commerce tests' fixtures: the Stripe fake in this process (`stripe`) and DynamoDB's per-request
atomicity on moto (`atomic_dynamodb`); both live in tests/integration/commerce_support.py."""

from tests.integration.commerce_support import atomic_dynamodb, stripe

__all__ = ["atomic_dynamodb", "stripe"]
