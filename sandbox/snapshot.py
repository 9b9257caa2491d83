"""Saving and restoring the WSO2 sandbox's state, so a restarted sandbox keeps its SPLP users,
applications, keys and subscriptions.

``WSO2Sandbox.snapshot()`` / ``restore()`` (sandbox/wso2.py) give the state as JSON-ready data,
encoded here: generic over dataclasses, sets and dicts with any keys; only the record classes
of ``sandbox.wso2`` are ever rebuilt. When the records change shape, restoring fails with
ValueError and the caller says to start over.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sandbox import wso2

__all__ = ["decode", "encode", "load_wso2", "save_wso2"]

STATE_FILE = "wso2.json"


def _record_classes() -> dict[str, type]:
    return {name: obj for name, obj in vars(wso2).items()
            if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == wso2.__name__}


def encode(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {"$dc": type(v).__name__,
                "f": {f.name: encode(getattr(v, f.name)) for f in dataclasses.fields(v)}}
    if isinstance(v, bytes):
        return {"$b64": base64.b64encode(v).decode()}
    if isinstance(v, frozenset):
        return {"$fset": [encode(x) for x in sorted(v, key=repr)]}
    if isinstance(v, set):
        return {"$set": [encode(x) for x in sorted(v, key=repr)]}
    if isinstance(v, tuple):
        return {"$tuple": [encode(x) for x in v]}
    if isinstance(v, list):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {"$map": [[encode(k), encode(x)] for k, x in v.items()]}
    raise TypeError(f"cannot save a {type(v).__name__}")


def decode(v: Any, classes: dict[str, type] | None = None) -> Any:
    """The inverse of `encode`; dataclasses are rebuilt only from the records of sandbox.wso2."""
    classes = classes if classes is not None else _record_classes()
    if isinstance(v, list):
        return [decode(x, classes) for x in v]
    if not isinstance(v, dict):
        return v
    if "$dc" in v:
        cls = classes.get(v["$dc"])
        if cls is None:
            raise ValueError(f"unknown record {v['$dc']!r}")
        return cls(**{k: decode(x, classes) for k, x in v["f"].items()})
    if "$b64" in v:
        return base64.b64decode(v["$b64"])
    if "$fset" in v:
        return frozenset(decode(x, classes) for x in v["$fset"])
    if "$set" in v:
        return {decode(x, classes) for x in v["$set"]}
    if "$tuple" in v:
        return tuple(decode(x, classes) for x in v["$tuple"])
    if "$map" in v:
        return {decode(k, classes): decode(x, classes) for k, x in v["$map"]}
    raise ValueError("unexpected object in the saved state")


def save_wso2(sb: wso2.WSO2Sandbox, directory: Path) -> None:
    """Write the sandbox's state to ``directory/wso2.json`` (atomically)."""
    state = sb.snapshot()
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".wso2-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state, f, separators=(",", ":"))
        os.replace(tmp, directory / STATE_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_wso2(sb: wso2.WSO2Sandbox, directory: Path) -> bool:
    """Restore what :func:`save_wso2` wrote. Returns False when there is nothing saved; raises
    ValueError (leaving ``sb`` untouched) when the saved state does not fit."""
    path = directory / STATE_FILE
    if not path.exists():
        return False
    try:
        sb.restore(json.loads(path.read_text("utf-8")))
    except (OSError, KeyError, TypeError, ValueError) as e:
        raise ValueError(f"cannot restore the SPLP sandbox from {path}: {type(e).__name__}: {e}") from None
    return True
