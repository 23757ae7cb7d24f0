"""Jinja environment over the templates shipped as package data."""

from __future__ import annotations

from functools import cache
from importlib import resources

import jinja2


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("personas.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def css() -> str:
    return resources.files("personas.report").joinpath("templates/base.css").read_text("utf-8")
