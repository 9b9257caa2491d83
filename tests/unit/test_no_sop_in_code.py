"""No Pemda's name, office, role title or SOP wording is left in the code: they are the SOP file's.

The words come from both shipped SOP files (their identity, roles, the chain's hop labels, the
steps' wording, the report's title and letterhead, the SPLP tenant) and a few fixed ones (the
offices' short names and the role titles' stems). The code is bot/, handlers/, workflow/,
storage/ (not its migrations, which record the past), splp/ and sandbox/ -- not the tests, the
SOP files, the docs or the data (the agency list)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sopfiles import SOP_FILES
from workflow.sop import Sop
from workflow.sopdoc import load

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("bot", "handlers", "workflow", "storage", "splp", "sandbox")
CODE_SUFFIXES = (".py", ".html", ".js", ".css", ".mako")
# The one place that names a Pemda: the shipped default SOP file's name (SOP_FILE's default).
ALLOWED = {("workflow/sopdoc.py", 'DEFAULT_SOP = Path(__file__).resolve().parents[1] / "sop" / "kota-bogor-038.yaml"')}
FIXED = ("Bogor", "Diskominfo", "Sukamaju", "DKISP", "E-Government", "Kepala Bidang", "Ketua Tim",
         "Pejabat Fungsional", "Kepala Dinas", "Pelaksana Teknis", "SOP 038", "SOP 012")


def _words(sop: Sop) -> set[str]:
    i, doc = sop.identity, sop.doc
    out = {i.reference, i.title, i.pemda, i.office, i.office_short, i.place, i.signed_by, i.service_name,
           doc.report.title, *doc.report.letterhead, sop.tenant, *sop.roles.values(),
           *(h.label for h in doc.chain), *(s.title for s in sop.procedure_a + sop.procedure_b)}
    return {w for w in out if len(w) >= 4}


WORDS = sorted(set(FIXED).union(*(_words(load(f)) for f in SOP_FILES)), key=str.casefold)


def _code_files() -> list[Path]:
    out = []
    for d in CODE_DIRS:
        for p in sorted((ROOT / d).rglob("*")):
            if p.suffix in CODE_SUFFIXES and "migrations" not in p.parts and "__pycache__" not in p.parts:
                out.append(p)
    return out


def test_the_word_list_is_what_the_files_say() -> None:
    """The list is built from the files (a renamed office or role is caught the same way)."""
    for w in ("Pemerintah Kota Bogor", "Kepala Bidang E-Government", "Ketua Tim Aplikasi", "kotabogor.go.id",
              "Pejabat Fungsional/Pelaksana", "Disposisi Kepala Diskominfo", "BERITA ACARA PEMBUATAN AKUN SPLP",
              "Mendaftarkan akun melalui splp.layanan.go.id untuk unit kerja pemohon", "sukamajukab.go.id",
              "Kepala Bidang Aplikasi Informatika", "PEMERINTAH KABUPATEN SUKAMAJU"):
        assert w in WORDS, w


def test_the_check_finds_a_word(tmp_path: Path) -> None:
    assert _hits([_sample(tmp_path, "x = 'Laporan Kota Bogor'\n")]) == [("sample.py", 1, "Bogor")]


def _sample(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "sample.py"
    p.write_text(text, "utf-8")
    return p


def _hits(files: list[Path]) -> list[tuple[str, int, str]]:
    found = []
    for p in files:
        name = p.name if not p.is_relative_to(ROOT) else str(p.relative_to(ROOT))
        for n, line in enumerate(p.read_text("utf-8").splitlines(), 1):
            if (name, line.strip()) in ALLOWED:
                continue
            low = line.casefold()
            for w in WORDS:
                if w.casefold() in low:
                    found.append((name, n, w))
    return found


@pytest.mark.parametrize("directory", CODE_DIRS)
def test_no_pemda_office_role_or_step_wording_in_code(directory: str) -> None:
    files = [p for p in _code_files() if p.relative_to(ROOT).parts[0] == directory]
    assert files
    hits = _hits(files)
    assert hits == [], "\n".join(f"{f}:{n}: {w!r}" for f, n, w in hits)
