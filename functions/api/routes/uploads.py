from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api.routes.common import SIGNED_IN, WRITE_ERRORS, caller, ok_response
from api.schemas import UploadOut, UploadRequest
from casset.services import uploads

router = APIGatewayHttpRouter()


@router.post(
    "/api/upload/media",
    operation_id="createUpload",
    summary="Get a presigned POST for a browser upload (video, audio or image, up to 500 MB)",
    tags=["uploads"],
    security=SIGNED_IN,
    responses=ok_response() | WRITE_ERRORS,
)
def create_upload(request: Annotated[UploadRequest, Body()]) -> UploadOut:
    return UploadOut.of(uploads.create_upload(caller(router), request.content_type, request.size_bytes))
