from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api.routes.common import (
    READ_ERRORS,
    SIGNED_IN,
    WRITE_ERRORS,
    PathId,
    caller,
    created,
    created_response,
    ok_response,
)
from api.schemas import CreateProfileRequest, PublicUserOut, UpdateProfileRequest, UserOut
from casset.services import users

router = APIGatewayHttpRouter()


@router.post(
    "/api/users",
    operation_id="createProfile",
    summary="Create the caller's profile (claims a unique handle)",
    tags=["users"],
    security=SIGNED_IN,
    responses=created_response(UserOut) | WRITE_ERRORS,
)
def create_profile(request: Annotated[CreateProfileRequest, Body()]) -> Response[UserOut]:
    user = users.create_profile(
        caller(router), request.handle, request.display_name, request.bio, request.is_artist
    )
    return created(UserOut.of(user))


@router.get(
    "/api/users/me",
    operation_id="getMyProfile",
    summary="The caller's profile",
    tags=["users"],
    security=SIGNED_IN,
    responses=ok_response() | READ_ERRORS,
)
def my_profile() -> UserOut:
    return UserOut.of(users.my_profile(caller(router)))


@router.patch(
    "/api/users/me",
    operation_id="updateMyProfile",
    summary="Update the caller's profile",
    tags=["users"],
    security=SIGNED_IN,
    responses=ok_response() | WRITE_ERRORS,
)
def update_profile(request: Annotated[UpdateProfileRequest, Body()]) -> UserOut:
    sent = request.model_dump(exclude_unset=True, exclude={"avatar_upload_key"})
    # Only the bio can be cleared with null; the other fields are required on a profile.
    changes = {name: value for name, value in sent.items() if value is not None or name == "bio"}
    return UserOut.of(users.update_profile(caller(router), changes, request.avatar_upload_key))


@router.get(
    "/api/users/<handle>",
    operation_id="getPublicProfile",
    summary="A public profile by handle",
    tags=["users"],
    responses=ok_response() | READ_ERRORS,
)
def public_profile(handle: PathId) -> PublicUserOut:
    return PublicUserOut.of(users.public_profile(handle))
