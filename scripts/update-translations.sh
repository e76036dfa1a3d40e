#!/usr/bin/env bash
# Refresh the translation catalogues of the portal.
#
#   bash scripts/update-translations.sh
#
# 1. extract all marked strings (Python: _, gettext, ngettext, _l, lazy_gettext;
#    Jinja templates: _ and friends) into portal/translations/messages.pot
# 2. update the English catalogue (or create it the first time)
# 3. compile all catalogues to .mo files
#
# After running it, translate new/empty entries in
# portal/translations/en/LC_MESSAGES/messages.po and run it again to compile.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ -x "$ROOT/.venv/bin/pybabel" ]]; then
    PYBABEL="$ROOT/.venv/bin/pybabel"
else
    PYBABEL="pybabel"
fi

TRANSLATIONS="portal/translations"
POT="$TRANSLATIONS/messages.pot"
LOCALE="en"
PO="$TRANSLATIONS/$LOCALE/LC_MESSAGES/messages.po"

mkdir -p "$TRANSLATIONS"

"$PYBABEL" extract \
    -F babel.cfg \
    -k _l -k lazy_gettext \
    --sort-by-file \
    --project=Wijkkracht \
    --copyright-holder="Gemeente Enschede" \
    -o "$POT" \
    .

if [[ -f "$PO" ]]; then
    "$PYBABEL" update -i "$POT" -d "$TRANSLATIONS" -l "$LOCALE" --no-fuzzy-matching
else
    "$PYBABEL" init -i "$POT" -d "$TRANSLATIONS" -l "$LOCALE"
fi

"$PYBABEL" compile -d "$TRANSLATIONS"
