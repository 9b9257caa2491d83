"""An SOP as a document: the YAML file an office maintains, validated into the model the bot runs
(``workflow/sop.py``).

Pure apart from reading the file: the file's text comes in, a :class:`Sop` or a
:class:`SopInvalid` (every problem with the file, the line and what is wrong, in Indonesian and
English) comes out. pydantic validates the schema (``workflow/sop.py``'s dataclasses); the rules
between fields (a step whose actor is not a role, a chain with a gap, a pre-check the bot does not
provide, ...) are checked after it. The format is documented in the README
("Another Pemda's SOP").
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

from workflow.sop import (
    A_ORDER,
    ADMIN,
    B_ORDER,
    REQUESTER,
    Hop,
    Item,
    Kind,
    Limit,
    Precheck,
    Sop,
    SopSchema,
    StageInfo,
    Step,
    SystemStage,
)

SLUG = re.compile(r"^[a-z][a-z0-9_]{1,19}$")  # role and stage codes (the database stores up to 20)


# --------------------------------------------------------------------------- loading

@dataclass(frozen=True)
class Problem:
    line: int | None
    where: str  # e.g. "procedure_a[3].actor"
    id: str  # Indonesian
    en: str  # English

    def render(self, source: str) -> str:
        at = f"{source}:{self.line}" if self.line else source
        return f"{at}: {self.where}: {self.id} / {self.en}"


class SopInvalid(ValueError):
    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source, self.problems = source, problems
        super().__init__("\n".join(p.render(source) for p in problems))


def read(path: str | Path) -> str:
    """The SOP file's text (:class:`SopInvalid` when it cannot be read)."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except OSError as e:
        raise SopInvalid(str(p), [Problem(None, "file", f"berkas tidak dapat dibaca ({e.strerror})",
                                          f"cannot read the file ({e.strerror})")]) from None


def load(path: str | Path) -> Sop:
    return parse(read(path), str(Path(path)))


def parse(text: str, source: str = "<sop>") -> Sop:
    """The SOP in ``text`` (``source`` names it in the messages); the same text gives the same
    (immutable) Sop, parsed once per process."""
    return _parse(text, source)


@lru_cache(maxsize=16)
def _parse(text: str, source: str) -> Sop:
    import yaml  # here: a bot has its file read by a child process (bot/sopcheck.py)

    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml's if built
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise SopInvalid(source, [Problem(mark.line + 1 if mark else None, "YAML",
                                          f"bukan YAML yang sah: {getattr(e, 'problem', e)}",
                                          f"not valid YAML: {getattr(e, 'problem', e)}")]) from None
    if node is None:
        raise SopInvalid(source, [Problem(None, "file", "berkas kosong", "the file is empty")])
    lines: dict[tuple[Any, ...], int] = {}
    data = _plain(node, (), lines, yaml.constructor.SafeConstructor())

    def line(loc: tuple[Any, ...]) -> int | None:
        while loc:
            if loc in lines:
                return lines[loc]
            loc = loc[:-1]
        return lines.get(())

    from pydantic import ValidationError

    try:
        doc = validator().validate_python(data)
    except ValidationError as e:
        raise SopInvalid(source, [_schema_problem(err, line) for err in e.errors()]) from None
    problems = [Problem(line(loc), _where(loc), id_, en) for loc, id_, en in _rules(doc)]
    if problems:
        raise SopInvalid(source, problems)
    return Sop(doc, source=source)


@cache
def validator() -> Any:
    """pydantic's validator of the schema (built once; pydantic is imported here, where a file is
    checked, and not by a bot that runs an SOP checked in a child process: see ``checked``)."""
    from pydantic import TypeAdapter

    return TypeAdapter(SopSchema)


def from_json(text: str | bytes, source: str) -> Sop:
    """An SOP document already validated (a version stored in the database, or the child's answer
    to ``checked``), without validating it again."""
    import msgspec

    return Sop(msgspec.json.decode(text, type=SopSchema), source=source)


# --------------------------------------------------------------------------- checked in a child process

def checked(text: str, source: str) -> str:
    """``parse(text, source)``'s outcome as JSON: ``{"document": ...}`` or ``{"problems": [...]}``.
    A bot has its file checked by a child process that runs this (``bot/sopcheck.py``), so pydantic
    never enters its memory; :func:`from_checked` reads the answer."""
    try:
        return json.dumps({"document": parse(text, source).doc.plain()}, ensure_ascii=False)
    except SopInvalid as e:
        return json.dumps({"problems": [asdict(p) for p in e.problems]}, ensure_ascii=False)


@dataclass(frozen=True)
class _Checked:
    """:func:`checked`'s answer: the document, or the problems."""

    document: SopSchema | None = None
    problems: list[Problem] | None = None


def from_checked(answer: str | bytes, source: str) -> Sop:
    """The Sop in :func:`checked`'s answer, or its problems raised as :class:`SopInvalid`."""
    import msgspec

    got = msgspec.json.decode(answer, type=_Checked)
    if got.document is None:
        raise SopInvalid(source, got.problems or [])
    return Sop(got.document, source=source)


def _plain(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int],
           make: yaml.constructor.SafeConstructor) -> Any:
    """The YAML node as plain data (YAML's safe types), remembering the line of every key and item."""
    import yaml
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else make.construct_object(k, deep=True)
            if not isinstance(key, str):
                key = str(key)
            out[key] = _plain(v, (*path, key), lines, make)
            lines[(*path, key)] = k.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v, (*path, i), lines, make) for i, v in enumerate(node.value)]
    return make.construct_object(node, deep=True)


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "file"


_SCHEMA_ID = {
    "missing": "wajib diisi", "unexpected_keyword_argument": "kolom tidak dikenal", "string_type": "harus berupa teks",
    "int_type": "harus berupa bilangan bulat", "int_parsing": "harus berupa bilangan bulat",
    "float_parsing": "harus berupa bilangan", "greater_than": "harus lebih dari 0",
    "greater_than_equal": "tidak boleh negatif", "string_pattern_mismatch": "format tidak sesuai",
    "string_too_short": "terlalu pendek", "string_too_long": "terlalu panjang", "too_short": "terlalu sedikit",
    "too_long": "terlalu banyak", "enum": "bukan salah satu pilihan yang tersedia", "date_from_datetime_parsing":
    "tanggal tidak sah (YYYY-MM-DD)", "date_parsing": "tanggal tidak sah (YYYY-MM-DD)",
    "dict_type": "harus berupa pemetaan (kunci: nilai)", "tuple_type": "harus berupa daftar",
    "value_error": "nilai tidak sah",
}


def _schema_problem(err: dict[str, Any], line: Any) -> Problem:
    loc = tuple(err["loc"])
    en = "unknown field" if err["type"] == "unexpected_keyword_argument" else err["msg"]
    id_ = _SCHEMA_ID.get(err["type"], "nilai tidak sah")
    if err["type"] == "enum":
        id_ += f" ({err.get('ctx', {}).get('expected', '')})"
    if err["type"] == "value_error":
        id_ += f": {en.removeprefix('Value error, ')}"
    return Problem(line(loc), _where(loc), id_, en)


def _rules(doc: SopSchema) -> list[tuple[tuple[Any, ...], str, str]]:
    """The rules between fields; each problem with where it is."""
    out: list[tuple[tuple[Any, ...], str, str]] = []
    add = out.append
    roles = set(doc.roles)
    for code, title in doc.roles.items():
        if not SLUG.match(code) or code in (REQUESTER, ADMIN):
            add((("roles", code), f"kode peran «{code}» tidak sah (huruf kecil, angka, _; 2-20; bukan requester/admin)",
                 f"role code {code!r} is invalid (lower case, digits, _; 2-20 long; not requester/admin)"))
        if not str(title).strip():
            add((("roles", code), "nama jabatan kosong", "empty role title"))

    def check_steps(steps: tuple[Step, ...], name: str, order: tuple[Kind, ...], single: set[Kind]) -> None:
        codes = [s.code for s in steps]
        for i, s in enumerate(steps):
            where = (name, i)
            if codes.count(s.code) > 1:
                add(((*where, "code"), f"kode langkah {s.code} ganda", f"step code {s.code} appears twice"))
            if s.kind not in order:
                add(((*where, "kind"), f"jenis «{s.kind}» tidak berlaku di {name}",
                     f"kind {s.kind!r} does not belong in {name}"))
            if s.kind in (Kind.REQUEST, *B_ORDER):
                if s.actor != REQUESTER:
                    add(((*where, "actor"), f"pelaku langkah {s.code} harus requester",
                         f"the actor of step {s.code} must be requester"))
            elif s.actor not in roles:
                add(((*where, "actor"), f"pelaku «{s.actor}» bukan peran yang didefinisikan di roles",
                     f"actor {s.actor!r} is not a role defined under roles"))
            if name == "procedure_b" and s.limit.minutes is None:
                add(((*where, "limit"), "batas waktu prosedur B dalam menit", "procedure B limits are in minutes"))
            if name == "procedure_a" and s.limit.minutes is not None:
                add(((*where, "limit"), "batas waktu prosedur A dalam hari kerja atau jam kerja",
                     "procedure A limits are in working days or working hours"))
        kinds = [s.kind for s in steps if s.kind in order]
        for k in single:
            if kinds.count(k) != 1:
                add(((name,), f"{name} harus memiliki tepat satu langkah berjenis {k}",
                     f"{name} must have exactly one step of kind {k}"))
        ranks = [order.index(k) for k in kinds]
        if ranks != sorted(ranks):
            add(((name,), "urutan langkah: " + " → ".join(order), "step order must be: " + " → ".join(order)))

    check_steps(doc.procedure_a, "procedure_a", A_ORDER, set(A_ORDER) - {Kind.DISPOSITION})
    if not any(s.kind == Kind.DISPOSITION for s in doc.procedure_a):
        add((("procedure_a",), "minimal satu langkah disposisi", "at least one disposition step is needed"))
    check_steps(doc.procedure_b, "procedure_b", B_ORDER, set(B_ORDER))
    # The SPLP portal's guide and the DevPortal flow know procedure B's steps as B1-B3; the figures
    # tell the procedures apart by the letter.
    for i, s in enumerate(doc.procedure_a):
        if not s.code.startswith("A"):
            add((("procedure_a", i, "code"), f"kode langkah prosedur A diawali A (A1, A2, ...), bukan {s.code}",
                 f"procedure A's step codes start with A (A1, A2, ...), not {s.code}"))
    if [s.code for s in doc.procedure_b] != ["B1", "B2", "B3"][:len(doc.procedure_b)]:
        add((("procedure_b",), "kode langkah prosedur B: B1, B2, B3", "procedure B's step codes are B1, B2, B3"))
    a_actor = {s.kind: s.actor for s in doc.procedure_a}
    execs = {s.actor for s in doc.procedure_a if s.kind in (Kind.COMPLETENESS_CHECK, Kind.REGISTRATION, Kind.REPORT)}
    if len(execs) > 1:
        add((("procedure_a",), "pemeriksaan, pendaftaran dan laporan dilakukan oleh satu peran pelaksana",
             "the completeness check, registration and report must have one executor role"))

    # The chain: its hops cover the disposition steps in order, without a gap.
    dispo = [s for s in doc.procedure_a if s.kind == Kind.DISPOSITION]
    stages: set[str] = set()
    hop_steps = []
    for i, h in enumerate(doc.chain):
        where = ("chain", i)
        if not SLUG.match(h.stage) or h.stage in set(SystemStage):
            add(((*where, "stage"), f"kode tahap «{h.stage}» tidak sah atau sudah dipakai sistem",
                 f"stage code {h.stage!r} is invalid or reserved"))
        if h.stage in stages:
            add(((*where, "stage"), f"kode tahap «{h.stage}» ganda", f"stage code {h.stage!r} appears twice"))
        stages.add(h.stage)
        if h.role not in roles:
            add(((*where, "role"), f"peran «{h.role}» tidak didefinisikan di roles",
                 f"role {h.role!r} is not defined under roles"))
        if h.step not in {s.code for s in dispo}:
            add(((*where, "step"), f"{h.step} bukan langkah disposisi", f"{h.step} is not a disposition step"))
        hop_steps.append(h.step)
    expected = [s.code for s in dispo]
    collapsed = [c for j, c in enumerate(hop_steps) if j == 0 or hop_steps[j - 1] != c]
    if collapsed != expected:
        add((("chain",), f"rantai disposisi terputus: langkah {', '.join(expected)} harus dilalui berurutan "
                         f"(tertulis: {', '.join(hop_steps) or '-'})",
             f"the disposition chain has a gap: steps {', '.join(expected)} must be covered in order "
             f"(given: {', '.join(hop_steps) or '-'})"))
    for s in dispo:
        first = next((h for h in doc.chain if h.step == s.code), None)
        if first is not None and first.role != s.actor:
            add((("chain",), f"hop pertama langkah {s.code} harus oleh pelakunya ({s.actor})",
                 f"the first hop of step {s.code} must be its actor's ({s.actor})"))
    if doc.chain and doc.chain[-1].role == a_actor.get(Kind.COMPLETENESS_CHECK):
        add((("chain",), "hop terakhir menugaskan pelaksana; pelaksana sendiri bukan hop",
             "the last hop assigns the executor; the executor is not a hop"))

    codes = [i.code for i in doc.completeness]
    for i, item in enumerate(doc.completeness):
        if codes.count(item.code) > 1:
            add((("completeness", i, "code"), f"kode butir «{item.code}» ganda", f"item code {item.code!r} twice"))
    for i, ins in enumerate(doc.instructions):
        if not 2 <= len(ins) <= 40:
            add((("instructions", i), "instruksi 2-40 karakter (teks tombol)", "instructions are 2-40 characters"))
    for who, sup in doc.escalation.items():
        for r in (who, sup):
            if r not in roles:
                add((("escalation", who), f"peran «{r}» tidak didefinisikan di roles", f"role {r!r} is not defined"))
    seen_cycle = set()
    for start in doc.escalation:
        path, r = [start], doc.escalation.get(start)
        while r is not None and r not in path:
            path.append(r)
            r = doc.escalation.get(r)
        if r is not None and start not in seen_cycle:
            seen_cycle.update(path)
            add((("escalation",), f"eskalasi berputar: {' → '.join(path + [r])}",
                 f"the escalation ladder loops: {' → '.join(path + [r])}"))
    for field in ("digest_to", "oversight"):
        for i, r in enumerate(getattr(doc, field)):
            if r not in roles:
                add(((field, i), f"peran «{r}» tidak didefinisikan di roles", f"role {r!r} is not defined"))
    if doc.report.signatory not in roles:
        add((("report", "signatory"), f"peran «{doc.report.signatory}» tidak didefinisikan di roles",
             f"role {doc.report.signatory!r} is not defined"))
    if doc.working_hours:
        from workflow.calendar import WeeklyHours
        try:
            WeeklyHours.parse(doc.working_hours)
        except ValueError as e:
            add((("working_hours",), f"jam kerja tidak sah: {e}", f"invalid working hours: {e}"))
    return out


DEFAULT_SOP = Path(__file__).resolve().parents[1] / "sop" / "kota-bogor-038.yaml"

__all__ = ["ADMIN", "DEFAULT_SOP", "Hop", "Item", "Kind", "Limit", "Precheck", "Problem", "REQUESTER", "Sop",
           "SopInvalid", "StageInfo", "Step", "SystemStage", "checked", "from_checked", "from_json", "load",
           "parse", "read", "validator"]
