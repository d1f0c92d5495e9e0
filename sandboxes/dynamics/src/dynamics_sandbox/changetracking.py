"""Change tracking: ``Prefer: odata.track-changes`` gives a delta link; following it returns
rows created or updated since, and ``$deletedEntity`` entries for deletions.

Source: "Use change tracking to synchronize data with external systems" (Microsoft Learn,
data-platform/use-change-tracking-synchronize-data-external-systems): changes are returned
while the token is within the retention period, seven days by default, set by the
Organization table's ``ExpireChangeTrackingInDays`` column; older than that, "the system
throws an exception": ExpiredVersionStamp (0x80044352), "Version stamp associated with the
client has expired. Please perform a full sync." (Dataverse's error code list).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .api_messages import ApiRequest, ApiResponse
from .errors import CHANGE_TRACKING, bad_request
from .metadata import Entity
from .odata.options import QueryOptions, split_top_level, unsupported_parameter
from .paging import decode_skiptoken, link
from .query import validate
from .webapi import WebApi

_TOKEN = re.compile(r"^(\d+)!(\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2})$")
_TOKEN_TIME = "%m/%d/%Y %H:%M:%S"
EXPIRED_VERSION_STAMP = "0x80044352"
_UNSUPPORTED = ("$filter", "$orderby", "$expand", "$top")
_ACCEPTED = ("$select", "$deltatoken", "$skiptoken")


def _delta_token(version: int, moment: datetime) -> str:
    # Dataverse's tokens look like "919042!08/22/2017 08:10:44"; clients treat them as opaque.
    return f"{version}!{moment.strftime(_TOKEN_TIME)}"


def handle(api: WebApi, request: ApiRequest, entity: Entity) -> ApiResponse:
    if not entity.change_tracking:
        raise bad_request(
            f"Change tracking is not enabled for the entity '{entity.logical_name}'. Enable "
            "ChangeTrackingEnabled on the table to retrieve changes.",
            CHANGE_TRACKING,
        )
    for option in request.query:
        if option in _UNSUPPORTED:
            raise bad_request(
                f'The "{option}" query parameter isn\'t supported when Change Tracking is enabled.'
            )
        if option not in _ACCEPTED:
            raise unsupported_parameter(option)
    options = QueryOptions(
        select=split_top_level(request.query["$select"], ",")
        if "$select" in request.query
        else None
    )
    validate(api.schema, entity, options)
    since = 0
    if "$deltatoken" in request.query:
        match = _TOKEN.match(request.query["$deltatoken"])
        if match is None:
            raise bad_request("The $deltatoken value is invalid.", CHANGE_TRACKING)
        since = int(match.group(1))
        issued = datetime.strptime(match.group(2), _TOKEN_TIME).replace(tzinfo=UTC)
        retention = timedelta(days=api.org.expire_change_tracking_in_days)
        if api.engine.clock.now() - issued > retention:
            raise bad_request(
                "Version stamp associated with the client has expired. Please perform a full sync.",
                EXPIRED_VERSION_STAMP,
            )
    snapshot = api.engine.version
    snapshot_time = api.engine.clock.now()
    if "$skiptoken" in request.query:
        snapshot = decode_skiptoken(request.query["$skiptoken"])[2]
    rows = sorted(
        (r for r in api.engine.rows(entity) if since < r["versionnumber"] <= snapshot),
        key=lambda r: int(r["versionnumber"]),
    )
    deleted_context = f"{api.api_url}/$metadata#{entity.entity_set_name}/$deletedEntity"
    deleted = [
        {"@odata.context": deleted_context, "id": str(t.id), "reason": "deleted"}
        for t in api.engine.tombstones.get(entity.logical_name, [])
        if since and since < t.version <= snapshot
    ]
    expander, applied = api.expander(request)
    response = api.page(
        request,
        entity,
        rows,
        options,
        expander,
        applied,
        snapshot=snapshot,
        context_suffix="/$delta" if since else "",
        trailer=deleted,
        # Later pages must stay in change-tracking mode even without the Prefer header.
        link_params={
            **request.query,
            "$deltatoken": request.query.get("$deltatoken", _delta_token(0, snapshot_time)),
        },
    )
    if "@odata.nextLink" not in response.body:
        token = _delta_token(snapshot, snapshot_time)
        base = f"{api.api_url}/{entity.entity_set_name}"
        params = {k: v for k, v in request.query.items() if k == "$select"}
        response.body["@odata.deltaLink"] = link(base, params, {"$deltatoken": token})
    applied_header = response.headers.get("Preference-Applied")
    response.headers["Preference-Applied"] = ", ".join(
        filter(None, [applied_header, "odata.track-changes"])
    )
    return response
