from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api.routes.common import (
    FEATURE_GATED,
    PAGED_READ_ERRORS,
    READ_ERRORS,
    SIGNED_IN,
    WRITE_ERRORS,
    PathId,
    caller,
    created,
    created_response,
    ok_response,
)
from api.schemas import (
    CreateVisualRequest,
    DescribeVisualRequest,
    MoveVisualRequest,
    SetActiveRequest,
    SuggestionListOut,
    SuggestionOut,
    TagListOut,
    UploadOut,
    VisualOut,
    VisualPageOut,
    VisualWithUploadOut,
)
from casset.entities import DeclaredMedia, VisualKind
from casset.services import visuals

router = APIGatewayHttpRouter()

Limit = Annotated[int, Query(ge=1, le=100, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=512, description="nextCursor of the previous page")]


def _page(page: visuals.VisualPage) -> VisualPageOut:
    return VisualPageOut(items=[VisualOut.of(visual) for visual in page.items], next_cursor=page.next_cursor)


@router.post(
    "/api/tracks/<trackId>/visuals",
    operation_id="createVisual",
    summary="Add a visual to a track (the track's artist only); it is PROCESSING until probed",
    tags=["visuals"],
    security=SIGNED_IN,
    responses=created_response(VisualWithUploadOut) | WRITE_ERRORS,
)
def create_visual(
    trackId: str,
    request: Annotated[CreateVisualRequest, Body()],
) -> Response[VisualWithUploadOut]:
    declared = DeclaredMedia(
        duration_sec=request.duration_sec,
        width_px=request.width_px,
        height_px=request.height_px,
        size_bytes=request.size_bytes,
    )
    source = visuals.VisualSource(request.content_type, request.upload_key, request.reuse_visual_id)
    description = visuals.Description(request.tags, request.bpm_min, request.bpm_max)
    result = visuals.create_visual(caller(router), trackId, source, declared, description)
    upload = UploadOut.of(result.upload) if result.upload else None
    return created(VisualWithUploadOut(visual=VisualOut.of(result.visual), upload=upload))


@router.get(
    "/api/tracks/<trackId>/visuals",
    operation_id="listTrackVisuals",
    summary="A track's READY visuals in the artist's order (anonymous callers allowed)",
    tags=["visuals"],
    responses=ok_response() | PAGED_READ_ERRORS | FEATURE_GATED,
)
def list_visuals(
    trackId: str,
    kind: Annotated[VisualKind | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
    tag: Annotated[
        str | None,
        Query(max_length=400, description="Comma-separated tags a visual must all carry (free text)"),
    ] = None,
    bpm: Annotated[
        int | None, Query(ge=1, le=999, description="Only visuals whose BPM range holds this tempo")
    ] = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> VisualPageOut:
    tag_texts = [text for text in tag.split(",") if text.strip()] if tag else None
    return _page(
        visuals.list_track_visuals(caller(router), trackId, kind, active, limit, cursor, tag_texts, bpm)
    )


@router.get(
    "/api/tracks/<trackId>/visuals/suggestions",
    operation_id="suggestVisuals",
    summary="Visuals that suit the track (its library and the artist's uploads), each with the reason why",
    tags=["visuals"],
    security=SIGNED_IN,
    responses=ok_response() | READ_ERRORS | FEATURE_GATED,
)
def suggestions(trackId: PathId, limit: Annotated[int, Query(ge=1, le=50)] = 10) -> SuggestionListOut:
    return SuggestionListOut(
        items=[
            SuggestionOut(
                visual=VisualOut.of(found.visual),
                on_track=found.visual.track_id == trackId,
                matched_tags=found.matched,
                reason=found.reason,
            )
            for found in visuals.suggest(caller(router), trackId, limit)
        ]
    )


@router.get(
    "/api/studio/visuals",
    operation_id="listMyVisuals",
    summary="The caller's earlier uploads with processed media, newest first (to add with reuseVisualId)",
    tags=["visuals"],
    security=SIGNED_IN,
    responses=ok_response() | PAGED_READ_ERRORS | FEATURE_GATED,
)
def my_uploads(limit: Limit = 20, cursor: Cursor = None) -> VisualPageOut:
    return _page(visuals.list_uploads(caller(router), limit, cursor))


@router.get(
    "/api/tags",
    operation_id="listTags",
    summary="The tag allowlist free text is normalised to",
    tags=["visuals"],
)
def tag_allowlist() -> TagListOut:
    return TagListOut.allowlist()


@router.get(
    "/api/studio/tracks/<trackId>/visuals",
    operation_id="listStudioTrackVisuals",
    summary="Every visual of the caller's track, whatever its status",
    tags=["visuals"],
    security=SIGNED_IN,
    responses=ok_response() | PAGED_READ_ERRORS | FEATURE_GATED,
)
def studio_visuals(trackId: PathId, limit: Limit = 20, cursor: Cursor = None) -> VisualPageOut:
    return _page(visuals.list_studio_visuals(caller(router), trackId, limit, cursor))


@router.get(
    "/api/visuals/<visualId>",
    operation_id="getVisual",
    summary="A READY visual (anonymous callers allowed)",
    tags=["visuals"],
    responses=ok_response() | READ_ERRORS | FEATURE_GATED,
)
def get_visual(visualId: PathId) -> VisualOut:
    return VisualOut.of(visuals.get_visual(caller(router), visualId))


@router.get(
    "/api/studio/visuals/<visualId>",
    operation_id="getStudioVisual",
    summary="One of the caller's visuals in any status (follow PROCESSING to READY or FAILED here)",
    tags=["visuals"],
    security=SIGNED_IN,
    responses=ok_response() | READ_ERRORS | FEATURE_GATED,
)
def studio_visual(visualId: PathId) -> VisualOut:
    return VisualOut.of(visuals.get_visual(caller(router), visualId))


@router.patch(
    "/api/tracks/<trackId>/visuals/<visualId>/active",
    operation_id="activateVisual",
    summary="Make a READY visual the track's active pairing, or clear it (the track's artist only)",
    tags=["visuals"],
    security=SIGNED_IN,
    responses=ok_response() | WRITE_ERRORS,
)
def set_active(trackId: PathId, visualId: PathId, request: Annotated[SetActiveRequest, Body()]) -> VisualOut:
    return VisualOut.of(visuals.set_active(caller(router), trackId, visualId, request.active))


@router.patch(
    "/api/tracks/<trackId>/visuals/<visualId>",
    operation_id="updateVisual",
    summary="Set a visual's tags and BPM range (the track's artist only)",
    tags=["visuals"],
    security=SIGNED_IN,
    responses=ok_response() | WRITE_ERRORS,
)
def describe(
    trackId: PathId, visualId: PathId, request: Annotated[DescribeVisualRequest, Body()]
) -> VisualOut:
    description = visuals.Description(request.tags, request.bpm_min, request.bpm_max)
    return VisualOut.of(
        visuals.describe(caller(router), trackId, visualId, description, request.model_fields_set)
    )


@router.put(
    "/api/tracks/<trackId>/visuals/<visualId>/position",
    operation_id="moveVisual",
    summary="Move a visual in the track's order, right after another one or first (the track's artist only)",
    tags=["visuals"],
    security=SIGNED_IN,
    responses=ok_response() | WRITE_ERRORS,
)
def move(trackId: PathId, visualId: PathId, request: Annotated[MoveVisualRequest, Body()]) -> VisualOut:
    return VisualOut.of(visuals.move(caller(router), trackId, visualId, request.after_visual_id))


@router.post(
    "/api/tracks/<trackId>/visuals/<visualId>/archive",
    operation_id="archiveVisual",
    summary="Archive (soft-hide) a visual; an active visual stops being active",
    tags=["visuals"],
    security=SIGNED_IN,
    responses=ok_response() | WRITE_ERRORS,
)
def archive(trackId: PathId, visualId: PathId) -> VisualOut:
    return VisualOut.of(visuals.archive(caller(router), trackId, visualId))


@router.post(
    "/api/tracks/<trackId>/visuals/<visualId>/unarchive",
    operation_id="unarchiveVisual",
    summary="Bring an archived visual back to the status it had",
    tags=["visuals"],
    security=SIGNED_IN,
    responses=ok_response() | WRITE_ERRORS,
)
def unarchive(trackId: PathId, visualId: PathId) -> VisualOut:
    return VisualOut.of(visuals.unarchive(caller(router), trackId, visualId))
