"""The public surface: ``__all__`` sorted, complete, importable, and documented."""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import kartra_async
from kartra_async import KartraError

#: The modules of the core client whose public classes and functions must all be exported.
#: (Per-command action classes of ``_actions`` are reached through the builder and ``COMMANDS``.)
CORE_MODULES = ("_builder", "_model", "_replies", "_client", "_transport", "_errors")
CORE_FUNCTIONS = {"_protocol": ("encode", "decode"), "_errors": ("error_class",)}
#: Helpers that are public inside the package but deliberately not part of the API.
INTERNAL = {
    "lead_email",
    "as_int",
    "is_loopback",
    "check_base_url",
}


def ruff_sort_key(name: str) -> tuple[int, list[Any]]:
    """RUF022's "isort-style" order: SCREAMING_CASE, then CamelCase, then the rest, naturally."""
    if len(name) > 1 and name.isupper():
        group = 0
    elif name[:1].isupper():
        group = 1
    else:
        group = 2
    natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
    return group, natural


def test_all_is_sorted_as_ruff_sorts_it() -> None:
    assert kartra_async.__all__ == sorted(kartra_async.__all__, key=ruff_sort_key)


def test_all_has_no_duplicates_and_every_name_imports() -> None:
    assert len(set(kartra_async.__all__)) == len(kartra_async.__all__)
    for name in kartra_async.__all__:
        assert hasattr(kartra_async, name), name
    namespace: dict[str, Any] = {}
    exec("from kartra_async import *", namespace)
    assert set(kartra_async.__all__) <= set(namespace)


def test_all_is_complete_for_the_core_modules() -> None:
    missing = []
    for module_name in CORE_MODULES:
        module = importlib.import_module(f"kartra_async.{module_name}")
        for name, obj in vars(module).items():
            defined_here = getattr(obj, "__module__", None) == module.__name__
            is_api = inspect.isclass(obj) or inspect.isfunction(obj)
            if defined_here and is_api and not name.startswith("_") and name not in INTERNAL:
                if inspect.isfunction(obj) and name.startswith("check_"):
                    continue  # validators: the rules are documented on the fields
                if name not in kartra_async.__all__:
                    missing.append(f"{module_name}.{name}")
    for module_name, names in CORE_FUNCTIONS.items():
        missing += [f"{module_name}.{n}" for n in names if n not in kartra_async.__all__]
    assert missing == []


def test_every_core_exception_is_exported() -> None:
    errors = importlib.import_module("kartra_async._errors")
    classes = [
        obj
        for obj in vars(errors).values()
        if inspect.isclass(obj) and issubclass(obj, KartraError)
    ]
    assert len(classes) > 30
    for cls in classes:
        assert getattr(kartra_async, cls.__name__) is cls


def _undocumented(obj: Any, name: str) -> list[str]:
    if not (inspect.getdoc(obj) or "").strip():
        return [name]
    found = []
    if inspect.isclass(obj):
        for attr, value in vars(obj).items():
            if attr.startswith("_"):
                continue
            func = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
            if inspect.isfunction(func) and not (func.__doc__ or "").strip():
                found.append(f"{name}.{attr}")
    return found


def test_every_public_object_has_a_docstring() -> None:
    missing = []
    for name in kartra_async.__all__:
        obj = getattr(kartra_async, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            missing += _undocumented(obj, name)
    assert missing == []
    assert (kartra_async.__doc__ or "").strip()


def test_version_is_a_string() -> None:
    assert isinstance(kartra_async.__version__, str)
    assert kartra_async.__version__
