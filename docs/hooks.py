"""MkDocs hooks: the pages' generated parts, written from the code on every build so they
cannot drift from it.

- ``<!-- generated: feature catalog -->``: ``domain.feature_catalog.markdown_table()``.
- ``<!-- generated: configuration reference -->``: every key of the configuration file, from
  the pydantic models of ``analytics_platform.config`` (type, default, the field's docstring).
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined


def on_page_markdown(markdown: str, **_: Any) -> str:
    from analytics_platform.domain.feature_catalog import markdown_table

    if "<!-- generated: feature catalog -->" in markdown:
        markdown = markdown.replace("<!-- generated: feature catalog -->", markdown_table())
    if "<!-- generated: configuration reference -->" in markdown:
        markdown = markdown.replace(
            "<!-- generated: configuration reference -->", configuration_reference()
        )
    return markdown


def configuration_reference() -> str:
    """One table per section of the configuration file, top level first."""
    from analytics_platform.config import ConfigFile, NetworkConfig

    sections: list[tuple[str, type[BaseModel]]] = [("(top level)", ConfigFile)]
    out: list[str] = []
    seen: set[type[BaseModel]] = set()
    while sections:
        path, model = sections.pop(0)
        if model in seen:
            continue
        seen.add(model)
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        out += [
            f"### `{path}`",
            "",
            doc,
            "",
            "| key | type | default | meaning |",
            "|---|---|---|---|",
        ]
        for name, field in model.model_fields.items():
            key = field.alias or name
            if model is NetworkConfig and name == "name":
                continue  # the key under networks:
            nested = _model_of(field.annotation)
            if nested is not None:
                prefix = "" if path == "(top level)" else f"{path}."
                sections.append((f"{prefix}{key}", nested))
            out.append(
                f"| `{key}` | {_type_name(field.annotation, field.metadata)} | {_default(field)} | "
                f"{_one_line(field.description)} |"
            )
        if model is ConfigFile:
            sections.insert(0, ("networks.<name>", NetworkConfig))
        out.append("")
    return "\n".join(out)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _type_name(annotation: Any, metadata: list[Any] | None = None) -> str:
    """``annotation`` in the YAML file's words: ``int > 0``, ``list of int``, ``text or null``."""
    text = _words(annotation) + "".join(_bound(m) for m in metadata or [])
    return f"`{text}`".replace("|", "\\|")


_NAMES = {str: "text", int: "int", float: "number", bool: "true/false", type(None): "null"}


def _words(a: Any) -> str:
    origin, args = typing.get_origin(a), typing.get_args(a)
    if origin is typing.Annotated:
        return _words(args[0]) + "".join(_bound(m) for m in args[1:])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_words(x) for x in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(str(x) for x in args)
    if origin is dict:
        return f"map of {_words(args[0])} to {_words(args[1])}"
    if origin in (tuple, list):
        return f"list of {_words(args[0])}"
    if a in _NAMES:
        return _NAMES[a]
    return getattr(a, "__name__", str(a))


def _bound(m: Any) -> str:
    for name, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
        value = getattr(m, name, None)
        if value is not None:
            return f" {sign} {value}"
    return ""


def _default(field: Any) -> str:
    if field.default_factory is not None:
        try:
            value = field.default_factory()
        except TypeError:
            return "-"
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        return "see its section"
    if value in (None, "", {}, [], ()):
        return "-"
    if isinstance(value, tuple):
        value = list(value)
    return f"`{value}`".replace("|", "\\|")


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")
