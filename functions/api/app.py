"""The HTTP API Lambda: one Powertools resolver, one router per resource, one error mapping."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, SecurityScheme
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from api import errors
from api.guards import install_json_body_validation, parse_json_body, rate_limit_mutations
from api.routes import commerce, exports, features, feeds, shares, tracks, uploads, users, visuals
from api.routes import metrics as visual_metrics  # `metrics` below is Powertools' Metrics
from casset.settings import get_settings

TITLE = "Casset Visual Pairing API"
VERSION = "1.0.0"
SECURITY_SCHEMES: dict[str, SecurityScheme] = {
    "bearerAuth": HTTPBearer(bearerFormat="JWT", description="API Gateway's JWT authorizer")
}

logger = Logger()
tracer = Tracer()
metrics = Metrics()

app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json_body)
install_json_body_validation(app)
app.use(middlewares=[rate_limit_mutations])
for module in (uploads, users, tracks, visuals, exports, commerce, feeds, shares, features):
    app.include_router(module.router)
app.include_router(visual_metrics.router)
errors.register(app)

if get_settings().enable_swagger:
    app.enable_swagger(path="/swagger", title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
