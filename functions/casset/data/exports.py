"""Export jobs. Every state change is conditioned on the state it leaves, so a redelivered or duplicate
message cannot render a finished export again."""

import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from pynamodb.constants import COUNT
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from casset.clock import utcnow
from casset.data import rate_limits
from casset.data._dynamo import (
    cancellation_codes,
    fetch,
    put_if,
    ready,
    request_token,
    transaction,
    translated_errors,
    update_if,
)
from casset.data.tables import ExportItem, OutputAttribute, PlanAttribute
from casset.entities import ExportJob, ExportOutput, ExportStatus, RenderPlan
from casset.errors import Unavailable
from casset.settings import get_settings

# The one value of the sparse in-flight index's key: present while QUEUED or RENDERING, removed at the end.
IN_FLIGHT = "RENDER"
_CONDITION_FAILED = "ConditionalCheckFailed"
_CONFLICT = "TransactionConflict"
_CONFLICT_ATTEMPTS = 3


def _to_job(item: ExportItem) -> ExportJob:
    output = item.output
    return ExportJob(
        id=item.id,
        plan=RenderPlan(**item.plan.as_dict()),
        status=ExportStatus(item.status),
        progress=int(item.progress),
        eta_sec=item.eta_sec,
        warnings=[str(warning) for warning in item.warnings or []],
        failure_reason=item.failure_reason,
        failure_message=item.failure_message,
        output_key=item.output_key,
        output=ExportOutput(**{k: int(v) if k != "duration_sec" else v for k, v in output.as_dict().items()})
        if output
        else None,
        requested_by=item.requested_by,
        attempts=int(item.attempts),
        started_at=item.started_at,
        finished_at=item.finished_at,
        render_sec=item.render_sec,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def get_export(export_id: str) -> ExportJob | None:
    item = fetch(ExportItem, export_id)
    return _to_job(item) if item else None


def create_export(
    export_id: str, plan: RenderPlan, requested_by: str, charge: rate_limits.Quote | None = None
) -> tuple[ExportJob, bool]:
    """The job for this plan: a new QUEUED one (True), or the one that already exists (False). With a
    charge, the job is created and the render charged in one transaction: only the request that creates it
    pays, and a budget with no room (rate_limits.BudgetSpent) writes nothing."""
    ready()
    now = utcnow()
    item = ExportItem(
        id=export_id,
        plan=PlanAttribute(**plan.model_dump()),
        status=ExportStatus.QUEUED.value,
        progress=0,
        requested_by=requested_by,
        attempts=0,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=get_settings().export_retention_days),
        in_flight=IN_FLIGHT,
        in_flight_since=now,
    )
    is_new = ExportItem.id.does_not_exist()
    if charge is None:
        created = put_if(item, is_new)
    else:
        created = _charged(charge, lambda writer: writer.save(item, condition=is_new))
    if created:
        return _to_job(item), True
    existing = get_export(export_id)
    if existing is None:  # expired by TTL between the two calls: make it anew
        return create_export(export_id, plan, requested_by, charge)
    return existing, False


def requeue_failed(export_id: str, charge: rate_limits.Quote | None = None) -> ExportJob | None:
    """A FAILED export asked for again is queued again (charged with the render, in one transaction, when
    a charge is given) and returned as stored; None if someone else already did (nothing charged)."""
    now = utcnow()
    actions: list[Action] = [
        ExportItem.status.set(ExportStatus.QUEUED.value),
        ExportItem.progress.set(0),
        ExportItem.failure_reason.remove(),
        ExportItem.failure_message.remove(),
        ExportItem.eta_sec.remove(),
        ExportItem.expires_at.set(now + timedelta(days=get_settings().export_retention_days)),
        ExportItem.in_flight.set(IN_FLIGHT),
        ExportItem.in_flight_since.set(now),
        ExportItem.updated_at.set(now),
    ]
    was_failed = ExportItem.status == ExportStatus.FAILED.value
    if charge is None:
        requeued = update_if(ExportItem(id=export_id), actions, was_failed)
    else:
        requeued = _charged(
            charge, lambda writer: writer.update(ExportItem(id=export_id), actions, condition=was_failed)
        )
    item = fetch(ExportItem, export_id, consistent_read=True) if requeued else None
    return _to_job(item) if item else None


def fail_unsent(job: ExportJob, reason: str, message: str) -> bool:
    """End a job whose queue message could not be sent FAILED, if nothing touched it since it was written
    (a re-send or a render would have): it then holds no place in flight, and asking again queues it."""
    return _update(
        job.id,
        [
            ExportItem.status.set(ExportStatus.FAILED.value),
            ExportItem.failure_reason.set(reason),
            ExportItem.failure_message.set(message[:500]),
            ExportItem.finished_at.set(utcnow()),
            ExportItem.in_flight.remove(),
            ExportItem.in_flight_since.remove(),
        ],
        (ExportItem.status == ExportStatus.QUEUED.value) & (ExportItem.updated_at == job.updated_at),
    )


def count_in_flight(since: datetime, up_to: int) -> int:
    """How many jobs entered QUEUED after `since` and are still QUEUED or RENDERING, counting at most
    `up_to`: one Query of the sparse index, Select=COUNT, Limit=up_to, first page only (PynamoDB's
    count() pages through the whole index: its limit counts returned items, and COUNT returns none).
    Eventually consistent: a burst can overshoot by a few."""
    ready()
    with translated_errors():
        page = ExportItem._get_connection().query(
            IN_FLIGHT,
            range_key_condition=ExportItem.in_flight_since > since,
            index_name=ExportItem.in_flight_index.Meta.index_name,
            select=COUNT,
            limit=up_to,
        )
    return int(page["Count"])


def _charged(charge: rate_limits.Quote, write: Callable[[TransactWrite], object]) -> bool:
    """Run the write that starts a render and its charge as one transaction. False when the write's own
    condition failed (another request started the render: nothing charged); rate_limits.BudgetSpent when
    the budget had no room (nothing written). DynamoDB cancels a transaction that meets another one on
    the same item (two identical first requests at once) with TransactionConflict: it is run again, and
    then sees the other's outcome. Every run carries one ClientRequestToken: a run botocore retried after
    losing its answer is then not cancelled by itself, which would leave a charged, QUEUED job unsent."""
    token = request_token()
    for attempt in range(_CONFLICT_ATTEMPTS):
        try:
            with translated_errors(), transaction(token) as writer:
                write(writer)
                rate_limits.charge_in(writer, charge)
            return True
        except TransactWriteError as error:
            # PynamoDB sends puts before updates, each kind in call order: the export's write (a put or
            # an update) is the first item either way, the charge (an update) the second.
            export_code, charge_code = [*cancellation_codes(error), None, None][:2]
            if export_code == _CONDITION_FAILED:
                return False
            if charge_code == _CONDITION_FAILED:
                raise rate_limits.BudgetSpent(charge.full_wait_sec) from error
            if _CONFLICT not in (export_code, charge_code):
                raise
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))  # jittered: racers must not meet again
    raise Unavailable("This export is being asked for by many at once; retry shortly.")


def claim_resend(job: ExportJob) -> bool:
    """Claim sending a QUEUED export's message again, if nothing touched the job since it was read. One
    conditional write: of concurrent identical requests exactly one wins and sends."""
    return _update(
        job.id,
        [],
        (ExportItem.status == ExportStatus.QUEUED.value) & (ExportItem.updated_at == job.updated_at),
    )


def claim(export_id: str) -> ExportJob | None:
    """RENDERING for this attempt; None when the export is finished (DONE or FAILED) or unknown.

    A RENDERING job can be claimed again: SQS only redelivers once the previous attempt stopped
    answering for the whole visibility timeout."""
    ready()
    item = ExportItem(id=export_id)
    claimed = update_if(
        item,
        [
            ExportItem.status.set(ExportStatus.RENDERING.value),
            ExportItem.attempts.add(1),
            ExportItem.progress.set(0),
            ExportItem.started_at.set(utcnow()),
            ExportItem.updated_at.set(utcnow()),
        ],
        ExportItem.status.is_in(ExportStatus.QUEUED.value, ExportStatus.RENDERING.value),
    )
    return _to_job(item) if claimed else None


def report_progress(export_id: str, percent: int, eta_sec: float | None) -> None:
    actions = [ExportItem.progress.set(percent)]
    actions.append(
        ExportItem.eta_sec.set(round(eta_sec, 1)) if eta_sec is not None else ExportItem.eta_sec.remove()
    )
    _update(export_id, actions, ExportItem.status == ExportStatus.RENDERING.value)


def complete(
    job: ExportJob,
    output_key: str,
    output: ExportOutput,
    warnings: list[str],
    render_sec: float,
) -> bool:
    """DONE, once: only a RENDERING job finishes. The visual's exports counter is not touched here; it
    counts client-fired export events through the metrics pipeline (casset.services.metrics)."""
    return _update(
        job.id,
        [
            ExportItem.status.set(ExportStatus.DONE.value),
            ExportItem.progress.set(100),
            ExportItem.eta_sec.set(0),
            ExportItem.output_key.set(output_key),
            ExportItem.output.set(OutputAttribute(**output.model_dump())),
            ExportItem.warnings.set(ExportItem.warnings.append(warnings)),
            ExportItem.finished_at.set(utcnow()),
            ExportItem.render_sec.set(round(render_sec, 3)),
            ExportItem.in_flight.remove(),
            ExportItem.in_flight_since.remove(),
        ],
        ExportItem.status == ExportStatus.RENDERING.value,
    )


def fail(export_id: str, reason: str, message: str) -> bool:
    return _update(
        export_id,
        [
            ExportItem.status.set(ExportStatus.FAILED.value),
            ExportItem.failure_reason.set(reason),
            ExportItem.failure_message.set(message[:500]),
            ExportItem.finished_at.set(utcnow()),
            ExportItem.in_flight.remove(),
            ExportItem.in_flight_since.remove(),
        ],
        ExportItem.status.is_in(ExportStatus.QUEUED.value, ExportStatus.RENDERING.value),
    )


def _update(export_id: str, actions: list, condition) -> bool:
    return update_if(ExportItem(id=export_id), [*actions, ExportItem.updated_at.set(utcnow())], condition)
