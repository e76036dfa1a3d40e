"""Kracht van de stad: residents' initiatives in a public showcase."""

from flask import Blueprint

bp = Blueprint("initiatives", __name__)
