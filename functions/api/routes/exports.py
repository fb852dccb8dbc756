from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api.routes.common import (
    READ_ERRORS,
    SIGNED_IN,
    WRITE_ERRORS,
    PathId,
    accepted_response,
    caller,
    errors,
    ok_response,
)
from api.schemas import ExportOut, ExportRequest
from casset.entities import ExportStatus
from casset.services import exports

router = APIGatewayHttpRouter()


@router.post(
    "/api/hooks/tiktok-video",
    operation_id="requestExport",
    summary="Export the hook as a 1080x1920 video: 202 with a queued job, or 200 with the finished one",
    description="Give trackId, or shareId to export a share (its track, hook start and visual). The visual "
    "is visualAssetId or ?v= (both and different: 400 CONFLICTING_VISUAL_IDS), else the share's, else the "
    "track's active one. A share whose visual was archived since renders the active visual and this "
    "answer (not the job, which everyone asking for the same export shares) carries a "
    "SHARED_VISUAL_UNAVAILABLE warning. Only the track's artist and fans entitled to the full track choose "
    "the window (hookStartSec, hookDurationSec); everyone else gets the track's hook, and asking for another "
    "window is 403 HOOK_WINDOW_LOCKED. Each new render counts against the caller's hourly budget (429 "
    "RENDER_BUDGET_EXCEEDED with Retry-After; an export already rendered is free) and waits for room when "
    "too many are in flight (503 RENDER_QUEUE_FULL with Retry-After).",
    tags=["exports"],
    security=SIGNED_IN,
    responses=ok_response("Rendered already: the finished export")
    | accepted_response(ExportOut)
    | WRITE_ERRORS
    | errors(503),
)
def request_export(
    request: Annotated[ExportRequest, Body()],
    v: Annotated[
        str | None, Query(min_length=1, max_length=64, description="A visual id, as share URLs carry it")
    ] = None,
) -> Response[ExportOut]:
    ask = exports.ExportAsk(
        track_id=request.track_id,
        hook_start_sec=request.hook_start_sec,
        hook_duration_sec=request.hook_duration_sec,
        visual_id=request.visual_asset_id,
        query_visual_id=v,
        share_id=request.share_id,
        share_url=str(request.share_url) if request.share_url else None,
        preset=request.preset,
    )
    job = exports.request_export(caller(router), ask)
    status = HTTPStatus.OK if job.status is ExportStatus.DONE else HTTPStatus.ACCEPTED
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=ExportOut.of(job))


@router.get(
    "/api/exports/<exportId>",
    operation_id="getExport",
    summary="An export's status, progress and ETA; when DONE a signed URL of the MP4 and its metadata",
    description="Readable by its requester, the track's artist, and whoever could ask for the same export "
    "now (its visual is one they may see and its window the track's hook, or they may hear the full "
    "track); 404 EXPORT_NOT_FOUND for everyone else.",
    tags=["exports"],
    security=SIGNED_IN,
    responses=ok_response() | READ_ERRORS,
)
def get_export(exportId: PathId) -> ExportOut:
    return ExportOut.of(exports.read_export(caller(router), exportId))
