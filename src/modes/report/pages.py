"""The report's HTML templates (``templates/``, shipped as package data) and their environment.

Markup lives in Jinja2 templates; Python prepares the values. Autoescaping is on for every
template; :func:`_escaped` finalizes each ``{{ value }}`` with :func:`html.escape` (which writes
``'`` as ``&#x27;``, as the report always has; markupsafe would write ``&#39;``) and lets
``Markup`` (a macro's output) through unchanged.
"""

from __future__ import annotations

import functools
import html
from typing import Any

import jinja2
from markupsafe import Markup

from modes.stats.verdict import Verdict

TEMPLATES = "templates"


def verdict_class(verdict: str) -> str:
    """The CSS class of a verdict badge: any verdict string not known reads as inconclusive."""
    classes: dict[str, str] = {Verdict.REPLICATED: "v-replicated",
                               Verdict.NOT_REPLICATED: "v-not-replicated"}
    return classes.get(verdict, "v-inconclusive")


def _escaped(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value)))


@functools.cache
def environment() -> jinja2.Environment:
    """The report's environment: templates from the package, autoescaped, strict about missing
    values (a name a template uses and the caller forgot is an error, not an empty cell)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("modes.report", TEMPLATES),
        autoescape=True, finalize=_escaped, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals["verdict_class"] = verdict_class
    return env


def render(template: str, **context: Any) -> str:
    """``template`` (a file under ``templates/``) rendered with ``context``."""
    return environment().get_template(template).render(**context)
