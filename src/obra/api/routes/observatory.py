"""Observatory routes: the report of a period as JSON, HTML or PDF, and the scenario presets.

``POST /observatory/report`` takes the same request as ``obra report`` (:class:`ReportRequest`) and
answers one document (``format``: json, html or pdf; HTML and PDF in the ``Accept-Language``);
access is checked in the service (``Obra.observatory``).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from obra.access import Principal
from obra.api.auth import caller, get_obra, locale
from obra.api.params import StrictJSONRoute
from obra.app import Obra
from obra.observatory.service import ReportRequest

router = APIRouter(tags=["observatory"], route_class=StrictJSONRoute)


@router.post("/observatory/report")
def observatory_report(request: ReportRequest,
                       format: Literal["json", "html", "pdf"] = Query("json", description="json, html or pdf"),
                       principal: Principal = Depends(caller), obra: Obra = Depends(get_obra),
                       language: str = Depends(locale)) -> Response:
    """A period's observatory report: indicators, the payment models compared, the scenario given."""
    data, media = obra.observatory.document(principal, request, format, language)
    return Response(data, media_type=media)


@router.get("/observatory/scenarios")
def scenario_presets(obra: Obra = Depends(get_obra)) -> dict:
    """The named scenarios (pro-rata, user-centric, artist-centric, ...) with their rules and sources."""
    return obra.observatory.scenario_presets()
