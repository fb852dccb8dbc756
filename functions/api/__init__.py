"""The HTTP API function: Powertools resolver, one router per resource."""
