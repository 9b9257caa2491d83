"""The two SOP files the project ships, for the tests: Bogor's (the default) and a regency's
(two hops, limits in working hours, five completeness items)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from workflow.sop import Sop
from workflow.sopdoc import load

ROOT = Path(__file__).resolve().parents[1]
BOGOR_FILE = ROOT / "sop" / "kota-bogor-038.yaml"
SUKAMAJU_FILE = ROOT / "sop" / "kabupaten-sukamaju-012.yaml"
SOP_FILES = (BOGOR_FILE, SUKAMAJU_FILE)


@cache
def bogor() -> Sop:
    return load(BOGOR_FILE)


@cache
def sukamaju() -> Sop:
    return load(SUKAMAJU_FILE)
