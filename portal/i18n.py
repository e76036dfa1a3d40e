"""Translations looked up once per request and language instead of once per string.

Flask-Babel finds the translations anew for every string: the request context, the domain,
the locale and its identifier, then a cache lookup. A page with a few hundred strings (labels,
table headers, the cards of the showcase) spent several milliseconds on that alone. Here the
translations of the current locale are kept next to Flask-Babel's own per-request state and
reused while the locale is the same object: ``force_locale`` (mail in the recipient's language
during a request) and ``refresh()`` replace the locale, so the next string looks up again.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import flask_wtf.i18n as flask_wtf_i18n
from babel import support
from flask import Flask, current_app, g, request
from flask_babel import Babel, Domain, get_locale
from wtforms.i18n import messages_path

_KEY = "portal_translations"


class RequestCachedDomain(Domain):
    def get_translations(self) -> Any:
        try:
            ctx = g._flask_babel
        except (AttributeError, RuntimeError):  # no request state yet, or no app context
            return super().get_translations()
        locale = getattr(ctx, "babel_locale", None)
        cached = getattr(ctx, _KEY, None)
        if cached is not None and locale is not None and cached[0] is locale:
            return cached[1]
        translations = super().get_translations()  # selects the locale when not yet chosen
        setattr(ctx, _KEY, (getattr(ctx, "babel_locale", None), translations))
        return translations


class PortalBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return RequestCachedDomain(domain=self.domain)


def install_template_gettext(app: Flask, babel: PortalBabel) -> None:
    """The templates' ``_``/``ngettext`` straight to the domain (Flask-Babel's own callables
    first look the domain up in the request context for every string)."""

    def translations() -> Any:
        return babel.domain_instance.get_translations()  # a cached property after the first use

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


# WTForms' own messages (Flask-WTF loads their catalogue from disk once per request): loaded once
# per language for the life of the process.
_WTFORMS_CATALOGUES: dict[str, Any] = {}


def _wtforms_translations() -> Any:
    if not request or "babel" not in current_app.extensions:
        return None
    locale = get_locale()
    key = str(locale)
    catalogue = _WTFORMS_CATALOGUES.get(key)
    if catalogue is None:
        catalogue = support.Translations.load(messages_path(), [locale], domain="wtforms")
        _WTFORMS_CATALOGUES[key] = catalogue
    return catalogue


flask_wtf_i18n._get_translations = _wtforms_translations
