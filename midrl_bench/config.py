"""Strict loading of YAML/dict configs into dataclasses.

Every config in the project (builder configs, pipeline recipes, heuristics, submissions) goes through
`from_dict`, which rejects unknown keys and wrong types with the dotted path of the offending field,
so a typo such as `learning_rat` fails at load time instead of being silently ignored.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A config value is missing, unknown or of the wrong type; the message names the field."""


MAX_YAML_BYTES = 1 << 20  # the largest YAML file read (recipes and builder configs are a few KiB)
MAX_YAML_NODES = 100_000  # nodes after expanding aliases: an alias bomb of ten nested levels is ~10**10
MAX_YAML_DEPTH = 100  # nesting of mappings and lists


class _LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a check between composing and constructing: the node graph, with every alias
    expanded, stays under MAX_YAML_NODES and MAX_YAML_DEPTH (counted on the shared graph, so the check is linear)."""


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int, where: str) -> int:
    if depth > MAX_YAML_DEPTH:
        raise ConfigError(f"{where}: YAML nested deeper than {MAX_YAML_DEPTH} levels")
    key = id(node)
    if key in memo:
        if memo[key] < 0:
            raise ConfigError(f"{where}: recursive YAML alias")
        return memo[key]
    memo[key] = -1
    children = node.value if isinstance(node, yaml.SequenceNode) else (
        [item for pair in node.value for item in pair] if isinstance(node, yaml.MappingNode) else [])
    total = 1
    for child in children:
        total += _expanded_size(child, memo, depth + 1, where)
        if total > MAX_YAML_NODES:
            raise ConfigError(f"{where}: YAML expands to more than {MAX_YAML_NODES} nodes (alias bomb?)")
    memo[key] = total
    return total


def safe_load_yaml_text(text: str, where: str = "<yaml>") -> Any:
    """The one YAML loader of the project: safe tags only, size, alias-expansion and depth limits, one-line
    ConfigError naming `where` on any problem."""
    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(f"{where}: YAML larger than {MAX_YAML_BYTES} bytes")
    loader = _LimitedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, 0, where)
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        raise ConfigError(f"{where}: invalid YAML ({' '.join(str(error).split())})") from None
    except RecursionError:
        raise ConfigError(f"{where}: YAML nested too deeply") from None
    finally:
        loader.dispose()


def load_yaml(path: str | Path) -> Any:
    """A YAML file through `safe_load_yaml_text` (size checked before reading)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    if path.stat().st_size > MAX_YAML_BYTES:
        raise ConfigError(f"{path}: YAML larger than {MAX_YAML_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    return safe_load_yaml_text(text, str(path))


def from_yaml(cls: type[T], path: str | Path) -> T:
    data = load_yaml(path)
    try:
        return from_dict(cls, data if data is not None else {}, where=str(path))
    except ConfigError:
        raise


def from_dict(cls: type[T], data: Any, where: str = "") -> T:
    """Build dataclass `cls` from `data`, recursing into nested dataclasses, lists and dicts."""
    return _convert(cls, data, where or cls.__name__)


def to_dict(obj: Any) -> Any:
    """Plain-data form of a (nested) dataclass, for provenance records."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(item) for item in obj]
    if isinstance(obj, dict):
        return {key: to_dict(value) for key, value in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return _build_dataclass(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        return _convert_union(tp, value, where)
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            raise ConfigError(f"{where}: {value!r} is not one of {list(typing.get_args(tp))}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__}")
        (item_type, *_) = typing.get_args(tp) or (Any,)
        items = [_convert(item_type, item, f"{where}[{i}]") for i, item in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
        _, value_type = typing.get_args(tp) or (str, Any)
        return {key: _convert(value_type, item, f"{where}.{key}") for key, item in value.items()}
    return _convert_scalar(tp, value, where)


def _convert_union(tp: Any, value: Any, where: str) -> Any:
    args = typing.get_args(tp)
    if value is None:
        if type(None) in args:
            return None
        raise ConfigError(f"{where}: must not be null")
    errors = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return _convert(arg, value, where)
        except ConfigError as error:
            errors.append(str(error))
    raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: {value!r} matches none of {args}")


def _convert_scalar(tp: Any, value: Any, where: str) -> Any:
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is Path and isinstance(value, str):
        return Path(value)
    if isinstance(tp, type):
        if tp is int and isinstance(value, bool):
            raise ConfigError(f"{where}: expected int, got bool")
        if not isinstance(value, tp):
            raise ConfigError(f"{where}: expected {tp.__name__}, got {type(value).__name__} ({value!r})")
    return value


def _build_dataclass(cls: Any, value: Any, where: str) -> Any:
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, field in fields.items():
        if name in value:
            kwargs[name] = _convert(hints[name], value[name], f"{where}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}: missing required key {name!r}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        if isinstance(error, ConfigError):
            raise
        raise ConfigError(f"{where}: {error}") from None
