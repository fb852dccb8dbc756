"""`python -m api.openapi` prints the OpenAPI 3.1 document generated from the routes (make openapi)."""

from api.app import SECURITY_SCHEMES, TITLE, VERSION, app


def document() -> str:
    return app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description="Stable error codes: every 4xx/5xx body is {code, message, details}. See README.md.",
        security_schemes=SECURITY_SCHEMES,
    )


if __name__ == "__main__":
    print(document())
