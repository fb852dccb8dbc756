"""The commerce tests' fixtures: the Stripe fake in this process (`stripe`), DynamoDB's per-request
atomicity on moto (`atomic_dynamodb`) and a payment whose event is not delivered yet (`sale`); they live
in tests/integration/commerce_support.py."""

from tests.integration.commerce_support import atomic_dynamodb, sale, stripe

__all__ = ["atomic_dynamodb", "sale", "stripe"]
