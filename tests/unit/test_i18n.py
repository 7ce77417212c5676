"""Choosing the language (Accept-Language, a shell's locale) and wording messages in it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from purchasing import i18n
from purchasing.i18n import _, ngettext, pgettext
from purchasing.web.templating import jinja_environment


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7", "id"),  # Chrome on an Indonesian phone
        ("en-US,en;q=0.9,id;q=0.8", "en"),
        ("ms-MY, id;q=0.5, en;q=0.4", "id"),  # the first the app speaks, by weight
        ("en;q=0.2, id;q=0.9", "id"),  # weights, not order
        ("fr-FR, de", "en"),  # none the app speaks: the default
        ("", "en"),
        ("*", "en"),
        ("id;q=0", "en"),  # q=0: not acceptable
        ("id;q=abc, en", "en"),  # a malformed weight leaves that part out
        ("<script>, id-ID;q=0.5", "id"),
        ("x" * 10_000 + ",id", "en"),  # read only so far
        (";;;,,,q=,=", "en"),
        ("ID-id", "id"),
    ],
)
def test_accept_language_picks_the_first_language_the_app_speaks(
    header: str, expected: str
) -> None:
    assert i18n.from_accept_language(header) == expected


def test_a_deployment_chooses_the_language_for_browsers_that_name_none() -> None:
    assert i18n.from_accept_language("fr", default="id") == "id"
    assert i18n.from_accept_language("en-GB", default="id") == "en"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "id_ID.UTF-8"}, "id"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANGUAGE": "id:en", "LANG": "en_US.UTF-8"}, "id"),  # LANGUAGE first, as gettext
        ({"LC_ALL": "C.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_a_command_speaks_its_shells_language(env: dict[str, str], expected: str) -> None:
    assert i18n.from_environment(env) == expected


def test_messages_are_worded_in_the_language_in_use_and_only_inside_it() -> None:
    assert _("Cancelled") == "Cancelled"
    with i18n.use("id"):
        assert _("Cancelled") == "Dibatalkan"
        assert _("%(invoice)s was deleted.", invoice="INV-1") == "INV-1 telah dihapus."
        with i18n.use("en"):
            assert _("Cancelled") == "Cancelled"
        assert _("Cancelled") == "Dibatalkan"
    assert _("Cancelled") == "Cancelled"
    assert _("No translation for this one") == "No translation for this one"


def test_each_thread_and_task_has_its_own_language() -> None:
    seen: dict[str, str] = {}

    def word(language: str) -> None:
        with i18n.use(language):
            barrier.wait()
            seen[language] = _("Cancelled")

    barrier = threading.Barrier(2, timeout=10)
    threads = [threading.Thread(target=word, args=(lang,)) for lang in ("id", "en")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"id": "Dibatalkan", "en": "Cancelled"}


def test_plural_and_context_forms() -> None:
    assert ngettext("%(num)s row", "%(num)s rows", 1) == "1 row"
    assert ngettext("%(num)s row", "%(num)s rows", 3) == "3 rows"
    assert pgettext("someone is", "editing") == "editing"
    with i18n.use("id"):
        assert pgettext("someone is", "editing") == "mengubah"


def test_a_catalog_that_cannot_be_read_is_refused_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with pytest.raises(i18n.CatalogMissing, match=r"pip install -e \."), i18n.use("id"):
            pass
        assert i18n.current() == "en"
    finally:
        monkeypatch.undo()
        i18n.translations.cache_clear()


def test_templates_word_messages_as_jinjas_newstyle_gettext_does() -> None:
    """Values are escaped into the message, `%%` is a percent sign, a trans block takes its
    variables: the same output as Jinja's own `_`, whose per-call work the app's skips."""
    env = jinja_environment()
    template = env.from_string(
        '{{ _("%(invoice)s was deleted.", invoice=name) }}|{{ _("Tax %%") }}|'
        '{% trans who=name %}Created by {{ who }}{% endtrans %}|{{ _("Cancelled") }}'
    )
    assert template.render(name="<b>") == (
        "&lt;b&gt; was deleted.|Tax %|Created by &lt;b&gt;|Cancelled"
    )
    with i18n.use("id"):
        assert template.render(name="A&B").startswith("A&amp;B telah dihapus.|")
        assert template.render(name="x").endswith("|Dibatalkan")
