"""API Gateway HTTP API on loopback: the template's routes, its JWT authorizer and CORS settings, each
request turned into a payload-2.0 event for the real handler, each result back into HTTP."""

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from infra.local.blueprint import ACCOUNT_ID, Blueprint, RouteSpec
from infra.local.functions import invoke

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's own limit
_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/xml")
logger = logging.getLogger("casset.local")

Verifier = Callable[[str], dict[str, Any]]


def _rule_path(path: str) -> str:
    return path.replace("{", "<").replace("}", ">")


def _claim_text(value: Any) -> str:
    # HTTP API hands every claim to the integration as a string, arrays as "[a b]".
    if isinstance(value, list):
        return "[" + " ".join(str(item) for item in value) + "]"
    return str(value)


class Gateway:
    def __init__(self, plan: Blueprint, verify: Verifier, extra_routes: list[RouteSpec] | None = None):
        self.plan = plan
        self.verify = verify
        routes = [*plan.routes, *(extra_routes or [])]
        self.url_map = Map(
            [Rule(_rule_path(r.path), methods=[r.method], endpoint=r) for r in routes],
            strict_slashes=False,
            merge_slashes=False,
        )
        origins = plan.cors.get("allowOrigins", [])
        self.allow_origins = [origins] if isinstance(origins, str) else list(origins)

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        response = self.handle(request)
        self._add_cors(request, response)
        logger.info("%s %s -> %s", request.method, request.full_path.rstrip("?"), response.status_code)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            return self._preflight(request)
        try:
            route, path_parameters = self.url_map.bind("local").match(request.path, method=request.method)
        except (NotFound, MethodNotAllowed):
            return _json(404, {"message": "Not Found"})
        if request.content_length and request.content_length > MAX_PAYLOAD_BYTES:
            return _json(413, {"message": "Request Entity Too Large"})
        claims = None
        if route.authorized:
            claims = self._claims(request)
            if claims is None:
                return _json(401, {"message": "Unauthorized"})
        event = self.event(request, route, dict(path_parameters), claims)
        try:
            result = invoke(self.plan.functions[route.function], event)
        except Exception:
            logger.exception("%s %s raised", request.method, request.path)
            return _json(500, {"message": "Internal Server Error"})
        return _http_response(result)

    def _claims(self, request: Request) -> dict[str, Any] | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            return self.verify(token.strip())
        except Exception:
            return None

    def event(
        self, request: Request, route: RouteSpec, path_parameters: dict[str, str], claims: dict | None
    ) -> dict[str, Any]:
        raw = request.get_data()
        content_type = request.headers.get("Content-Type", "")
        body, encoded = _event_body(raw, content_type)
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            if name.lower() == "cookie":
                continue
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        query: dict[str, str] = {}
        for name, values in request.args.lists():
            query[name] = ",".join(values)
        now = datetime.now(UTC)
        route_key = f"{route.method} {route.path}"
        context: dict[str, Any] = {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "domainName": request.host,
            "domainPrefix": request.host.split(".")[0],
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        }
        if claims is not None:
            context["authorizer"] = {
                "jwt": {"claims": {k: _claim_text(v) for k, v in claims.items()}, "scopes": None}
            }
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": request.path,
            "rawQueryString": request.query_string.decode("latin-1"),
            "headers": headers,
            "requestContext": context,
            "isBase64Encoded": encoded,
        }
        cookies = [f"{name}={value}" for name, value in request.cookies.items(multi=True)]
        if cookies:
            event["cookies"] = cookies
        if query:
            event["queryStringParameters"] = query
        if path_parameters:
            event["pathParameters"] = path_parameters
        if body is not None:
            event["body"] = body
        return event

    def _preflight(self, request: Request) -> Response:
        response = Response(status=204)
        cors = self.plan.cors
        response.headers["Access-Control-Allow-Methods"] = ",".join(cors.get("allowMethods", []))
        response.headers["Access-Control-Allow-Headers"] = ",".join(cors.get("allowHeaders", []))
        response.headers["Access-Control-Max-Age"] = str(cors.get("maxAge", 0))
        return response

    def _add_cors(self, request: Request, response: Response) -> None:
        origin = request.headers.get("Origin")
        if not origin or not ("*" in self.allow_origins or origin in self.allow_origins):
            return
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in self.allow_origins else origin
        exposed = self.plan.cors.get("exposeHeaders")
        if exposed:
            response.headers["Access-Control-Expose-Headers"] = ",".join(exposed)


def _event_body(raw: bytes, content_type: str) -> tuple[str | None, bool]:
    """Text bodies pass as text; anything else (or bytes that are not UTF-8) base64, as API Gateway does."""
    if not raw:
        return None, False
    if content_type.startswith(_TEXT_TYPES) or not content_type:
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(raw).decode(), True


def _http_response(result: Any) -> Response:
    if not isinstance(result, dict) or "statusCode" not in result:
        # Payload 2.0 lets a function return a bare value: API Gateway answers 200 with it as JSON.
        return _json(200, result)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    response = Response(data, status=int(result["statusCode"]))
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    return response


def _json(status: int, payload: Any) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")
