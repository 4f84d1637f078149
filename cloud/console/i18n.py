"""The console's words: one message catalog per language, shared by templates and scripts.

A catalog is a flat JSON object of message keys (``nav.map``) to text with ``{name}``
placeholders. Templates call ``t(key)``; a page carries its whole catalog as a JSON data
block, which ``static/js/i18n.js`` reads, so scripts use the same keys. The language is the
one the caller chose (the ``vr_lang`` cookie, set by ``?lang=``), else the browser's
``Accept-Language``, else English. ``tests/console/test_catalogs.py`` lists keys a page uses
that a catalog lacks, and keys left untranslated.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from flask import request

CATALOGS = Path(__file__).parent / "catalog"
LANGUAGES = ("zh-CN", "en")
DEFAULT = "en"
LANG_COOKIE = "vr_lang"


@functools.cache
def catalog(language: str) -> dict[str, str]:
    """The messages of ``language`` (one of LANGUAGES), read once."""
    return json.loads((CATALOGS / f"{language}.json").read_text(encoding="utf-8"))


@functools.cache
def catalog_json(language: str) -> str:
    """The catalog as the JSON text a page embeds (``<`` escaped, so it cannot end the
    data block early)."""
    return json.dumps(catalog(language), ensure_ascii=False).replace("<", "\\u003c")


def chosen(asked: str | None = None) -> str:
    """The request's language: ``asked`` (``?lang=``), the cookie, the browser's, English."""
    for wanted in (asked, request.cookies.get(LANG_COOKIE)):
        if wanted in LANGUAGES:
            return wanted
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"], default=DEFAULT)
    return "zh-CN" if best.startswith("zh") else "en"


def translate(language: str, key: str, **params: object) -> str:
    """The text of ``key`` in ``language`` with its placeholders filled; the key itself when
    the catalog lacks it (the catalog test catches that before it ships)."""
    text = catalog(language).get(key, key)
    return text.format(**params) if params else text
