"""The data layer: the only code that touches PynamoDB and boto3.

It returns entities and raises domain errors."""
