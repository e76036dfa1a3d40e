"""Kracht van de stad: residents' initiatives in a public showcase."""

from flask import Blueprint

bp = Blueprint("initiatives", __name__)

from portal.initiatives import (  # noqa: E402, F401 - register the views
    initiator_views,
    public_views,
    staff_views,
)
