from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

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
)
from api.schemas import (
    AudioAccessOut,
    CreateTrackRequest,
    ReplaceAudioRequest,
    TrackListOut,
    TrackOut,
    TrackRewardRequest,
    TrackWithUploadOut,
    UpdateTrackRequest,
    UploadOut,
)
from casset.services import entitlements, tracks

router = APIGatewayHttpRouter()


def _with_upload(result: tracks.TrackWithUpload) -> TrackWithUploadOut:
    upload = UploadOut.of(result.audio_upload) if result.audio_upload else None
    return TrackWithUploadOut(track=TrackOut.of(result.track), audio_upload=upload)


@router.post(
    "/api/tracks",
    operation_id="createTrack",
    summary="Create a track; answers with a presigned POST for its audio when audioContentType is given",
    tags=["tracks"],
    security=SIGNED_IN,
    responses=created_response(TrackWithUploadOut) | WRITE_ERRORS,
)
def create_track(request: Annotated[CreateTrackRequest, Body()]) -> Response[TrackWithUploadOut]:
    audio = (
        tracks.AudioSource(request.audio_content_type, request.audio_upload_key)
        if request.audio_content_type or request.audio_upload_key
        else None
    )
    result = tracks.create_track(
        caller(router),
        request.title,
        request.preview_start_sec,
        request.hook_duration_sec,
        audio,
        request.cover_upload_key,
        request.tags,
    )
    return created(_with_upload(result))


@router.get(
    "/api/tracks/<trackId>",
    operation_id="getTrack",
    summary="A track",
    tags=["tracks"],
    responses=ok_response() | READ_ERRORS,
)
def get_track(trackId: PathId) -> TrackOut:
    return TrackOut.of(tracks.get_track(trackId))


@router.patch(
    "/api/tracks/<trackId>",
    operation_id="updateTrack",
    summary="Update a track's title, hook selection, cover or tags (the track's artist only)",
    tags=["tracks"],
    security=SIGNED_IN,
    responses=ok_response() | WRITE_ERRORS,
)
def update_track(trackId: PathId, request: Annotated[UpdateTrackRequest, Body()]) -> TrackOut:
    track = tracks.update_track(
        caller(router),
        trackId,
        title=request.title,
        preview_start_sec=request.preview_start_sec,
        hook_duration_sec=request.hook_duration_sec,
        cover_upload_key=request.cover_upload_key,
        tag_texts=request.tags,
    )
    return TrackOut.of(track)


@router.post(
    "/api/tracks/<trackId>/audio",
    operation_id="replaceTrackAudio",
    summary="Replace a track's audio: a new presigned POST, or adopt an earlier upload",
    tags=["tracks"],
    security=SIGNED_IN,
    responses=ok_response() | WRITE_ERRORS,
)
def replace_audio(trackId: PathId, request: Annotated[ReplaceAudioRequest, Body()]) -> TrackWithUploadOut:
    source = tracks.AudioSource(request.audio_content_type, request.audio_upload_key)
    return _with_upload(tracks.replace_audio(caller(router), trackId, source))


@router.get(
    "/api/artists/<artistId>/tracks",
    operation_id="listArtistTracks",
    summary="An artist's tracks, newest first",
    tags=["tracks"],
    responses=ok_response() | READ_ERRORS,
)
def artist_tracks(
    artistId: PathId,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> TrackListOut:
    return TrackListOut(items=[TrackOut.of(track) for track in tracks.list_artist_tracks(artistId, limit)])


def _audio(link: entitlements.AudioLink) -> AudioAccessOut:
    return AudioAccessOut(
        track_id=link.track.id,
        access=link.access.value,
        url=link.url,
        expires_at=link.expires_at,
        start_sec=link.start_sec,
        duration_sec=link.duration_sec,
    )


@router.get(
    "/api/tracks/<trackId>/audio",
    operation_id="getTrackAudio",
    summary="A short-lived URL of the full track for its artist and its collectors; the hook clip otherwise",
    description="Entitlement is checked on every request: a refund or dispute ends full access at once.",
    tags=["tracks"],
    security=SIGNED_IN,
    responses=ok_response() | READ_ERRORS | errors(409),
)
def track_audio(trackId: PathId) -> AudioAccessOut:
    return _audio(entitlements.audio_for(caller(router), trackId))


@router.get(
    "/api/tracks/<trackId>/preview",
    operation_id="getTrackPreview",
    summary="A short-lived URL of the hook preview clip (anyone)",
    tags=["tracks"],
    responses=ok_response() | READ_ERRORS | errors(409),
)
def track_preview(trackId: PathId) -> AudioAccessOut:
    return _audio(entitlements.preview_for(trackId))


@router.put(
    "/api/tracks/<trackId>/reward",
    operation_id="setTrackReward",
    summary="Set the track's per-hook reward (the track's artist only)",
    tags=["tracks"],
    security=SIGNED_IN,
    responses=ok_response() | WRITE_ERRORS,
)
def set_reward(trackId: PathId, request: Annotated[TrackRewardRequest, Body()]) -> TrackOut:
    track = tracks.set_reward(
        caller(router),
        trackId,
        request.reward_amount,
        request.reward_currency,
        request.reward_description,
        request.reward_active,
    )
    return TrackOut.of(track)
