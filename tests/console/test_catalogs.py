"""The console's message catalogs: every key a template, a script or the page table uses is
in both languages, nothing is left untranslated (the list says which), no catalog keeps a
key nothing uses, and a message's placeholders are the same in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cloud.console import i18n
from cloud.console.pages import PAGES

CONSOLE = Path(i18n.__file__).parent
# t('key') / t("key") in templates and scripts; a key is written out in full at every use
USE = re.compile(r"""\bt\(\s*['"]([A-Za-z0-9_.\-]+)['"]\s*[,)]""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# the same in both languages on purpose: each language's own name, the brand, units
SAME_IN_BOTH = {"language.en", "language.zh-CN"}


def keys_in(text: str) -> set[str]:
    """The message keys ``text`` (a template or a script) uses."""
    return set(USE.findall(text))


def used_keys() -> dict[str, set[str]]:
    """Each key and the files that use it."""
    found: dict[str, set[str]] = {}
    sources = [*CONSOLE.glob("templates/**/*.html"), *CONSOLE.glob("static/js/**/*.js")]
    for source in sources:
        for key in keys_in(source.read_text(encoding="utf-8")):
            found.setdefault(key, set()).add(str(source.relative_to(CONSOLE)))
    for page in PAGES:
        found.setdefault(page.title, set()).add("pages.py")
    for language in i18n.LANGUAGES:  # the language links: t('language.' + code)
        found.setdefault(f"language.{language}", set()).add("templates/console/base.html")
    return found


def test_uses_are_found_in_scripts_and_templates():
    """What the checks below rest on: every way a key is written is seen, a built one not."""
    script = "x = t('map.title'); y = t(\"map.popup.soc\", { n }); z = t('state.' + s);"
    template = "<h1>{{ t('device.title') }}</h1>{{ t( 'a.b' ,n=1) }}"
    assert keys_in(script) == {"map.title", "map.popup.soc"}
    assert keys_in(template) == {"device.title", "a.b"}


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_key_in_use_is_in_the_catalog(language):
    missing = sorted(set(used_keys()) - set(i18n.catalog(language)))
    assert missing == [], f"keys missing from catalog/{language}.json: {missing}"


def test_both_catalogs_have_the_same_keys():
    english, chinese = (set(i18n.catalog(language)) for language in ("en", "zh-CN"))
    assert sorted(english - chinese) == [] and sorted(chinese - english) == []


def test_nothing_is_left_untranslated():
    english, chinese = i18n.catalog("en"), i18n.catalog("zh-CN")
    untranslated = sorted(
        key for key in english if chinese.get(key) == english[key] and key not in SAME_IN_BOTH
    )
    assert untranslated == [], f"untranslated keys (the same text in both): {untranslated}"


def test_no_catalog_keeps_a_key_nothing_uses():
    unused = sorted(set(i18n.catalog("en")) - set(used_keys()))
    assert unused == [], f"keys no template, script or page uses: {unused}"


def test_placeholders_agree_between_languages():
    english, chinese = i18n.catalog("en"), i18n.catalog("zh-CN")
    differ = {
        key: (english[key], chinese[key])
        for key in english
        if set(PLACEHOLDER.findall(english[key])) != set(PLACEHOLDER.findall(chinese.get(key, "")))
    }
    assert differ == {}


def test_every_permission_has_its_words_in_both_languages():
    """The role editor and the account page say what a permission lets one do."""
    from cloud.identity.permissions import PERMISSIONS

    wanted = {"permission." + name.replace(".", "_") for name in PERMISSIONS}
    script = (CONSOLE / "static" / "js" / "permission_words.js").read_text(encoding="utf-8")
    assert keys_in(script) == wanted
