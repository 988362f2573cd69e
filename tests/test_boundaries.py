"""Templates keep the apps' one-way dependencies: reports → commitments → cases →
notifications.

import-linter (``make lint``) checks the Python imports; these tests check what it cannot
see. A template under ``templates/<app>/`` belongs to that app, a template-tag library
belongs to the app whose ``templatetags/`` holds it, and a URL name belongs to the app whose
module holds its view. A lower app's template must neither ``{% load %}`` a higher app's
library, nor include or extend a higher app's template, nor ``{% url %}`` a higher app's
page (a link up is handed down by the higher app, as a hook's answer). URL names of the
framework and of the project's wiring (admin, login, the API docs) may be linked from
anywhere; the templates outside the apps' folders (``base.html``, ``components/``) are the
project's and may link to every app.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.template.base import Lexer, TokenType
from django.urls import URLPattern, URLResolver, get_resolver

# Highest first, as in the import-linter layers contract.
APPS = ["reports", "commitments", "cases", "notifications"]
RANK = {app: len(APPS) - i for i, app in enumerate(APPS)}
BASE_DIR = Path(settings.BASE_DIR)
TEMPLATES = BASE_DIR / "templates"


def _tag_libraries() -> dict[str, str]:
    """Template-tag library name → the app that provides it."""
    return {
        module.stem: app
        for app in APPS
        for module in (BASE_DIR / app / "templatetags").glob("*.py")
        if module.stem != "__init__"
    }


def _url_names() -> dict[str, str]:
    """Every URL name (``namespace:name`` inside a namespace) → the top-level package of the
    module that holds its view (an app, or the framework: ``django``, ``drf_spectacular``)."""
    names: dict[str, str] = {}

    def walk(patterns: list[URLPattern | URLResolver], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif pattern.name:
                names[namespace + pattern.name] = pattern.callback.__module__.split(".")[0]

    walk(get_resolver().url_patterns, "")
    return names


def _linked_names(path: Path) -> list[str]:
    """The URL names a template links to literally (``{% url 'name' … %}``)."""
    return [
        arguments[0].strip("\"'")
        for arguments in _tags(path, "url")
        if arguments and arguments[0][:1] in "\"'"
    ]


def _all_templates() -> list[Path]:
    return [path for path in sorted(TEMPLATES.rglob("*")) if path.is_file()]


def _app_templates() -> list[tuple[str, Path]]:
    return [
        (app, path)
        for app in APPS
        for path in sorted((TEMPLATES / app).rglob("*"))
        if path.is_file()
    ]


def _tags(path: Path, name: str) -> list[list[str]]:
    """The arguments of every ``{% name … %}`` tag in the template (``{# #}`` skipped)."""
    tokens = Lexer(path.read_text(encoding="utf-8")).tokenize()
    return [
        token.split_contents()[1:]
        for token in tokens
        if token.token_type == TokenType.BLOCK and token.contents.split()[:1] == [name]
    ]


def _loaded_libraries(path: Path) -> list[str]:
    libraries = []
    for arguments in _tags(path, "load"):
        # {% load a b %} loads libraries a and b; {% load x y from lib %} loads from lib.
        libraries += arguments[-1:] if "from" in arguments else arguments
    return libraries


def _higher(app: str, other: str | None) -> bool:
    return other is not None and RANK.get(other, 0) > RANK[app]


def test_the_scan_finds_templates_and_tag_libraries():
    assert {app for app, _ in _app_templates()} == set(APPS)
    assert _tag_libraries()
    assert set(APPS) <= set(_url_names().values())


def test_no_template_loads_a_tag_library_of_a_higher_app():
    libraries = _tag_libraries()
    violations = [
        f"{path.relative_to(BASE_DIR)}: {{% load {library} %}} is a tag library of "
        f"{libraries[library]} ({libraries[library]}/templatetags/{library}.py), "
        f"and {app} must not depend on {libraries[library]}"
        for app, path in _app_templates()
        for library in _loaded_libraries(path)
        if _higher(app, libraries.get(library))
    ]
    assert not violations, "\n".join(violations)


def test_no_template_includes_or_extends_a_template_of_a_higher_app():
    violations = [
        f"{path.relative_to(BASE_DIR)}: {{% {tag} {arguments[0]} %}} is a template of "
        f"{target_app}, and {app} must not depend on {target_app}"
        for app, path in _app_templates()
        for tag in ("include", "extends")
        for arguments in _tags(path, tag)
        if arguments and arguments[0][:1] in "\"'"
        for target_app in [arguments[0].strip("\"'").split("/")[0]]
        if _higher(app, target_app)
    ]
    assert not violations, "\n".join(violations)


def test_every_url_a_template_names_exists():
    names = _url_names()
    violations = [
        f"{path.relative_to(BASE_DIR)}: {{% url '{name}' %}} names no route"
        for path in _all_templates()
        for name in _linked_names(path)
        if name not in names
    ]
    assert not violations, "\n".join(violations)


def test_no_template_links_to_a_page_of_a_higher_app():
    names = _url_names()
    violations = [
        f"{path.relative_to(BASE_DIR)}: {{% url '{name}' %}} is a page of {names[name]}, "
        f"and {app} must not depend on {names[name]}"
        for app, path in _app_templates()
        for name in _linked_names(path)
        if _higher(app, names.get(name))
    ]
    assert not violations, "\n".join(violations)
