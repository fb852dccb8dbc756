"""Hook shares: create one (signed in), read it resolved (anyone), open its short link (anyone)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api.routes.commerce import referral_redirect
from api.routes.common import (
    READ_ERRORS,
    SIGNED_IN,
    WRITE_ERRORS,
    PathId,
    caller,
    created,
    created_response,
    errors,
    ok_response,
    redirect_response,
)
from api.schemas import CreateShareRequest, ResolvedShareOut, ShareFallbackOut, ShareOut
from casset.services import shares

router = APIGatewayHttpRouter()


@router.post(
    "/api/shares",
    operation_id="createShare",
    summary="Share a hook with a chosen visual: a short link /s/{id} that credits the caller's referrals",
    description="hookStartSec defaults to the track's previewStartSec and must leave room for the track's "
    "hook inside the audio (400 INVALID_HOOK); only the track's artist and fans entitled to the full track "
    "choose it (anyone else: 403 HOOK_WINDOW_LOCKED, and their share carries the track's hook). "
    "visualAssetId must be a READY visual of the track (404 VISUAL_NOT_FOUND, also for a visual the caller "
    "may not see; 409 VISUAL_NOT_READY for its artist). A sharer with a profile who is not the track's "
    "artist gets a referral link for the artist, which the short link's opener is attributed to.",
    tags=["shares"],
    security=SIGNED_IN,
    responses=created_response(ShareOut) | WRITE_ERRORS,
)
def create_share(request: Annotated[CreateShareRequest, Body()]) -> Response[ShareOut]:
    share = shares.create_share(
        caller(router), request.track_id, request.hook_start_sec, request.visual_asset_id
    )
    return created(
        ShareOut(
            id=share.id,
            url=shares.share_url(share.id),
            track_id=share.track_id,
            hook_start_sec=share.hook_start_sec,
            visual_asset_id=share.visual_id,
            created_at=share.created_at,
        )
    )


@router.get(
    "/api/shares/<shareId>",
    operation_id="getShare",
    summary="A share as the preview page shows it: the hook, the visual to show and any fallback (anyone)",
    tags=["shares"],
    responses=ok_response() | READ_ERRORS,
)
def get_share(shareId: PathId) -> ResolvedShareOut:
    resolved = shares.resolve(caller(router), shareId)
    fallback = resolved.fallback
    return ResolvedShareOut(
        id=resolved.share.id,
        url=resolved.url,
        preview_url=resolved.preview_url,
        track_id=resolved.share.track_id,
        hook_start_sec=resolved.hook_start_sec,
        hook_duration_sec=resolved.hook_duration_sec,
        requested_visual_id=resolved.share.visual_id,
        visual_asset_id=resolved.visual_id,
        fallback=ShareFallbackOut(code=fallback.code, message=fallback.message) if fallback else None,
        created_at=resolved.share.created_at,
    )


@router.get(
    "/s/<shareId>",
    operation_id="openShare",
    summary="Open a share: redirects to the preview page (t, v, s and any fallback in the query) and sets "
    "the sharer's 30-day `ref` cookie",
    tags=["shares"],
    responses=redirect_response("Redirect to the preview page") | errors(404),
)
def open_share(shareId: PathId) -> Response[None]:
    opened = shares.open_share(caller(router), shareId)
    return referral_redirect(opened.redirect_url, opened.click_id, opened.max_age_sec)
