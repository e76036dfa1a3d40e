"""Wijkbudget applications: the resident's form, draagvlak and dossier."""

from flask import Blueprint

bp = Blueprint("applications", __name__)

from portal.applications import (  # noqa: E402, F401 - register the views
    accounting,
    dossier,
    draagvlak,
    editing,
)
