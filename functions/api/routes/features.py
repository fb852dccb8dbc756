"""Which features are on, so a frontend can hide what is off (the services enforce the same flags)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api.routes.common import SIGNED_IN, caller, errors, ok_response
from api.schemas import FeaturesOut
from casset import flags

router = APIGatewayHttpRouter()
ArtistId = Annotated[
    str | None, Query(min_length=1, max_length=128, description="Evaluate the flags for this artist")
]


@router.get(
    "/api/features",
    operation_id="getFeatures",
    summary="Which features are on for an artist (anonymous: no targeting by caller or group)",
    tags=["features"],
    responses=ok_response() | errors(503),
)
def get_features(artistId: ArtistId = None) -> FeaturesOut:
    return FeaturesOut(artist_id=artistId, features=flags.features(artist_id=artistId))


@router.get(
    "/api/studio/features",
    operation_id="getStudioFeatures",
    summary="Which features are on for the caller (their groups) and an artist (by default the caller)",
    tags=["features"],
    security=SIGNED_IN,
    responses=ok_response() | errors(503),
)
def get_studio_features(artistId: ArtistId = None) -> FeaturesOut:
    who = caller(router)
    user_id = who.require_user()
    artist_id = artistId or user_id
    return FeaturesOut(
        artist_id=artist_id,
        features=flags.features(artist_id=artist_id, user_id=user_id, groups=who.groups),
    )
