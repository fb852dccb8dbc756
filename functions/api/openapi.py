"""`python -m api.openapi` prints the OpenAPI 3.1 document generated from the routes (make openapi): the
API function's and the Stripe webhook functions' (one HTTP API, several functions)."""

import json

from api.app import SECURITY_SCHEMES, TITLE, VERSION, app
from webhooks.handler import app as webhooks_app


def document() -> str:
    merged = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description="Stable error codes: every 4xx/5xx body is {code, message, details}. See README.md.",
            security_schemes=SECURITY_SCHEMES,
        )
    )
    webhooks = json.loads(webhooks_app.get_openapi_json_schema(title=TITLE, version=VERSION))
    merged["paths"].update(webhooks["paths"])
    for name, schema in webhooks.get("components", {}).get("schemas", {}).items():
        merged.setdefault("components", {}).setdefault("schemas", {}).setdefault(name, schema)
    return json.dumps(merged, indent=2)


if __name__ == "__main__":
    print(document())
