"""Tests for workflow.form: the request letter's validators (pure, no I/O)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.fresh import in_fresh_process
from workflow.form import (
    FORM_FIELDS,
    MAX_SCAN_BYTES,
    AgencyRef,
    Field,
    Invalid,
    Scan,
    check_scan,
    find_agencies,
    next_missing,
    parse_app_name,
    parse_business_process,
    parse_email,
    parse_letter_date,
    parse_letter_number,
    parse_mobile,
    parse_person_name,
    parse_subject,
    precheck,
)
from tests.sopfiles import bogor, sukamaju

TODAY = date(2026, 3, 15)


def code_of(fn, *args, **kwargs) -> str:
    with pytest.raises(Invalid) as exc:
        fn(*args, **kwargs)
    return exc.value.code


# --- letter number -------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("027/123/Kominfo/2026", "027/123/Kominfo/2026"),
    ("800/45-Diskominfo", "800/45-Diskominfo"),
    ("B-12/KOM.01/III/2026", "B-12/KOM.01/III/2026"),
    ("No. 12", "No. 12"),
    ("005/ 1 (A) & B: 2_3", "005/ 1 (A) & B: 2_3"),
    ("  027 / 123  ", "027 / 123"),
    ("nomor\t12", "nomor 12"),
    ("111", "111"),
])
def test_letter_number_accepted(text: str, expected: str) -> None:
    assert parse_letter_number(text) == expected


@pytest.mark.parametrize("text,code", [
    (None, "empty"),
    ("", "empty"),
    ("   ", "empty"),
    ("12", "too_short"),
    ("1" + "a" * 100, "too_long"),
    ("abc", "letter_number_format"),  # no digit
    ("Surat permohonan", "letter_number_format"),
    ("/123", "letter_number_format"),  # must start with a letter or digit
    ("-123", "letter_number_format"),
    ("027/123#", "letter_number_format"),
    ("027\n123", "letter_number_format"),
    ("027/123@x", "letter_number_format"),
])
def test_letter_number_rejected(text: str | None, code: str) -> None:
    assert code_of(parse_letter_number, text) == code


def test_letter_number_too_short_carries_min() -> None:
    with pytest.raises(Invalid) as exc:
        parse_letter_number("12")
    assert exc.value.params == {"min": 3}


# --- letter date ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("10-03-2026", date(2026, 3, 10)),
    ("10/03/2026", date(2026, 3, 10)),
    ("10.03.2026", date(2026, 3, 10)),
    ("1-3-2026", date(2026, 3, 1)),
    ("2026-03-10", date(2026, 3, 10)),
    ("2026-3-1", date(2026, 3, 1)),
    ("10 Maret 2026", date(2026, 3, 10)),
    ("10 maret 2026", date(2026, 3, 10)),
    ("10 MARET 2026", date(2026, 3, 10)),
    ("  10   Maret   2026 ", date(2026, 3, 10)),
    ("10\u00a0Maret\u00a02026", date(2026, 3, 10)),
    ("1 Mar 2026", date(2026, 3, 1)),
    ("1 Mar. 2026", date(2026, 3, 1)),
    ("5 Januari 2026", date(2026, 1, 5)),
    ("5 Jan 2026", date(2026, 1, 5)),
    ("5 Februari 2026", date(2026, 2, 5)),
    ("5 Pebruari 2026", date(2026, 2, 5)),
    ("5 Feb 2026", date(2026, 2, 5)),
    ("5 April 2025", date(2025, 4, 5)),
    ("5 Apr 2025", date(2025, 4, 5)),
    ("5 Mei 2025", date(2025, 5, 5)),
    ("5 Juni 2025", date(2025, 6, 5)),
    ("5 Jun 2025", date(2025, 6, 5)),
    ("5 Juli 2025", date(2025, 7, 5)),
    ("5 Jul 2025", date(2025, 7, 5)),
    ("5 Agustus 2025", date(2025, 8, 5)),
    ("5 Agu 2025", date(2025, 8, 5)),
    ("5 Agt 2025", date(2025, 8, 5)),
    ("5 Ags 2025", date(2025, 8, 5)),
    ("5 September 2025", date(2025, 9, 5)),
    ("5 Sep 2025", date(2025, 9, 5)),
    ("5 Sept 2025", date(2025, 9, 5)),
    ("5 Oktober 2025", date(2025, 10, 5)),
    ("5 Okt 2025", date(2025, 10, 5)),
    ("5 November 2025", date(2025, 11, 5)),
    ("5 Nopember 2025", date(2025, 11, 5)),
    ("5 Nov 2025", date(2025, 11, 5)),
    ("5 Desember 2025", date(2025, 12, 5)),
    ("5 Des 2025", date(2025, 12, 5)),
])
def test_letter_date_accepted_formats(text: str, expected: date) -> None:
    assert parse_letter_date(text, TODAY) == expected


def test_letter_date_boundaries() -> None:
    assert parse_letter_date("15-03-2026", TODAY) == TODAY  # today is fine
    assert parse_letter_date("14-03-2025", TODAY) == date(2025, 3, 14)  # exactly 366 days
    assert code_of(parse_letter_date, "16-03-2026", TODAY) == "date_future"
    assert code_of(parse_letter_date, "13-03-2025", TODAY) == "date_too_old"


def test_letter_date_too_old_carries_days() -> None:
    with pytest.raises(Invalid) as exc:
        parse_letter_date("01-01-2020", TODAY)
    assert exc.value.code == "date_too_old"
    assert exc.value.params == {"days": 366}


@pytest.mark.parametrize("text,code", [
    (None, "empty"),
    ("", "empty"),
    ("  ", "empty"),
    ("31-02-2026", "date_not_exist"),
    ("2026-02-31", "date_not_exist"),
    ("30 Februari 2026", "date_not_exist"),
    ("29-02-2025", "date_not_exist"),  # 2025 is not a leap year
    ("00-01-2026", "date_not_exist"),
    ("10-13-2025", "date_not_exist"),
    ("32 Januari 2026", "date_not_exist"),
    ("01-01-2027", "date_future"),
    ("31 Desember 2026", "date_future"),
    ("01-01-2024", "date_too_old"),
    ("hari ini", "date_format"),
    ("10-3-26", "date_format"),
    ("2026/03/10", "date_format"),
    ("10 Maret2026", "date_format"),
    ("10 Marett 2026", "date_format"),
    ("Senin, 10 Maret 2026", "date_format"),
    ("10032026", "date_format"),
])
def test_letter_date_rejected(text: str | None, code: str) -> None:
    assert code_of(parse_letter_date, text, TODAY) == code


# --- subject and app name ------------------------------------------------------------------

def test_subject() -> None:
    assert parse_subject("  Permohonan   Pembuatan Akun SPLP ") == "Permohonan Pembuatan Akun SPLP"
    assert code_of(parse_subject, "Akun") == "too_short"
    assert code_of(parse_subject, "x" * 201) == "too_long"
    assert code_of(parse_subject, "Permohonan\nAkun SPLP") == "single_line"
    assert code_of(parse_subject, "") == "empty"


def test_app_name() -> None:
    assert parse_app_name("SIMPEG") == "SIMPEG"
    assert parse_app_name(" e-Perizinan  Kota ") == "e-Perizinan Kota"
    assert code_of(parse_app_name, "AB") == "too_short"
    assert code_of(parse_app_name, "x" * 101) == "too_long"
    assert code_of(parse_app_name, "SIM\nPEG") == "single_line"
    assert code_of(parse_app_name, None) == "empty"


# --- person name ---------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("Budi Santoso", "Budi Santoso"),
    ("budi", "budi"),
    ("  Budi   Santoso  ", "Budi Santoso"),
    ("Dr. Budi Santoso, S.Kom.", "Dr. Budi Santoso, S.Kom."),
    ("Ir. H. Ahmad", "Ir. H. Ahmad"),
    ("Muh. Rizky", "Muh. Rizky"),
    ("Siti Nur'aini", "Siti Nur'aini"),
    ("Ni Luh Putu-Ayu", "Ni Luh Putu-Ayu"),
    ("José Ñúñez", "José Ñúñez"),
    ("Ahmad bin Abdullah", "Ahmad bin Abdullah"),
    ("Bu\u200bdi", "Budi"),  # zero-width space dropped
])
def test_person_name_accepted(text: str, expected: str) -> None:
    assert parse_person_name(text) == expected


@pytest.mark.parametrize("text,code", [
    (None, "empty"),
    ("", "empty"),
    ("Bu", "too_short"),
    ("A.", "too_short"),
    ("X" * 101, "too_long"),
    ("Budi2", "name_format"),
    ("Budi_Santoso", "name_format"),
    ("Budi\nSantoso", "name_format"),
    ("@budi", "name_format"),
    ("Budi (Kominfo)", "name_format"),
    ("-Budi", "name_format"),
    ("123", "name_format"),
])
def test_person_name_rejected(text: str | None, code: str) -> None:
    assert code_of(parse_person_name, text) == code


# --- email ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("budi@bogorkota.go.id", "budi@bogorkota.go.id"),
    ("Budi.Santoso@Kominfo.BogorKota.GO.ID", "Budi.Santoso@kominfo.bogorkota.go.id"),
    ("BUDI@X.ID", "BUDI@x.id"),
    ("  budi@kominfo.go.id  ", "budi@kominfo.go.id"),
    ("budi+splp@gmail.com", "budi+splp@gmail.com"),
])
def test_email_accepted_and_domain_lowercased(text: str, expected: str) -> None:
    assert parse_email(text) == expected


@pytest.mark.parametrize("text,code", [
    (None, "empty"),
    ("", "empty"),
    ("  ", "empty"),
    ("budi", "email_format"),
    ("a@b", "email_format"),
    ("budi@kominfo", "email_format"),
    ("a b@c.id", "email_format"),
    ("budi@", "email_format"),
    ("@x.id", "email_format"),
    ("budi@@x.id", "email_format"),
    ("budi@x..id", "email_format"),
    ("a..b@x.id", "email_format"),
    ("budi.@x.id", "email_format"),
    ("a@localhost", "email_format"),
    ("x" * 250 + "@a.id", "email_format"),
])
def test_email_rejected(text: str | None, code: str) -> None:
    assert code_of(parse_email, text) == code


# --- mobile number -------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("081234567890", "+6281234567890"),
    ("0812-3456-7890", "+6281234567890"),
    ("0812 3456 7890", "+6281234567890"),
    ("0812.3456.7890", "+6281234567890"),
    ("(0812) 3456-7890", "+6281234567890"),
    ("0812\u00a03456\u00a07890", "+6281234567890"),
    ("+62 812 3456 7890", "+6281234567890"),
    ("+62-812-3456-7890", "+6281234567890"),
    ("+6281234567890", "+6281234567890"),
    ("+62 (0)812-3456-7890", "+6281234567890"),
    ("6281234567890", "+6281234567890"),
    ("62 812 3456 7890", "+6281234567890"),
    ("62-812-3456-7890", "+6281234567890"),
    ("812 3456 7890", "+6281234567890"),
    ("08123456789", "+628123456789"),  # 11 digits
    ("0812345678", "+62812345678"),  # 10 digits
    ("085712345678", "+6285712345678"),  # Indosat
    ("0821-1234-5678", "+6282112345678"),  # Telkomsel
    ("0852 1234 5678", "+6285212345678"),
    ("0877 1234 5678", "+6287712345678"),  # XL
    ("0838 1234 5678", "+6283812345678"),  # Axis
    ("0895123456789", "+62895123456789"),  # Tri
    ("0881 2345 6789", "+6288123456789"),  # Smartfren
])
def test_mobile_accepted_and_normalised(text: str, expected: str) -> None:
    assert parse_mobile(text) == expected


@pytest.mark.parametrize("text,code", [
    (None, "empty"),
    ("", "empty"),
    ("   ", "empty"),
    ("021 1234567", "phone_not_mobile"),  # Jakarta landline
    ("(021) 3456789", "phone_not_mobile"),
    ("0251 8321075", "phone_not_mobile"),  # Bogor landline
    ("+62 251 8321075", "phone_not_mobile"),
    ("+1 202 555 0123", "phone_not_indonesian"),
    ("+60 12-345 6789", "phone_not_indonesian"),
    ("+65 9123 4567", "phone_not_indonesian"),
    ("abc", "phone_format"),
    ("12", "phone_format"),
    ("0812", "phone_format"),
    ("+62812345678901234", "phone_format"),
    ("0812-3456-7890 / 0813-1234-5678", "phone_format"),
])
def test_mobile_rejected(text: str | None, code: str) -> None:
    assert code_of(parse_mobile, text) == code


# --- business process ----------------------------------------------------------------------

GOOD_PROCESS = "Integrasi data kependudukan antara Disdukcapil dan aplikasi perizinan"


def test_business_process_accepted() -> None:
    assert parse_business_process(GOOD_PROCESS) == GOOD_PROCESS
    assert parse_business_process("  satu dua tiga empat limaaaaaaa ") == \
        "satu dua tiga empat limaaaaaaa"  # exactly 30 characters, 5 words
    multi = "\n\nIntegrasi data\nkependudukan antara dua   aplikasi\n"
    assert parse_business_process(multi) == "Integrasi data\nkependudukan antara dua aplikasi"


@pytest.mark.parametrize("text,code,params", [
    (None, "empty", {}),
    ("", "empty", {}),
    ("satu dua tiga empat lima", "too_short", {"min": 30}),
    ("satu dua tiga empat limaaaaaa", "too_short", {"min": 30}),  # 29 characters
    ("a" * 30, "too_few_words", {"min": 5}),
    ("integrasi kependudukan perizinanterpadu", "too_few_words", {"min": 5}),
    ("Integrasi data antara dua sistem " * 100, "too_long", {"max": 3000}),
])
def test_business_process_rejected(text: str | None, code: str, params: dict) -> None:
    with pytest.raises(Invalid) as exc:
        parse_business_process(text)
    assert exc.value.code == code
    assert exc.value.params == params


# --- scan ----------------------------------------------------------------------------------

def scan(**kw) -> Scan:
    args = dict(file_id="fid", file_unique_id="uid", is_photo=False, file_name="surat.pdf",
                mime_type="application/pdf", size=200_000)
    args.update(kw)
    return check_scan(**args)


@pytest.mark.parametrize("kw,kind", [
    ({}, "pdf"),
    ({"file_name": "SURAT.PDF", "mime_type": "application/PDF"}, "pdf"),
    ({"file_name": None}, "pdf"),
    ({"file_name": "surat"}, "pdf"),
    ({"file_name": "scan.jpg", "mime_type": "image/jpeg"}, "jpeg"),
    ({"file_name": "scan.jpeg", "mime_type": "image/jpeg"}, "jpeg"),
    ({"file_name": "scan.png", "mime_type": "image/png"}, "png"),
    ({"is_photo": True, "file_name": None, "mime_type": None}, "photo"),
    ({"is_photo": True, "file_name": None, "mime_type": None, "size": None}, "photo"),
    ({"mime_type": "application/octet-stream"}, "pdf"),
    ({"mime_type": None}, "pdf"),
    ({"mime_type": ""}, "pdf"),
    ({"file_name": "scan.JPG", "mime_type": "application/octet-stream"}, "jpeg"),
    ({"size": None}, "pdf"),
    ({"size": 100}, "pdf"),
    ({"size": MAX_SCAN_BYTES}, "pdf"),
])
def test_scan_accepted(kw: dict, kind: str) -> None:
    s = scan(**kw)
    assert s.kind == kind
    assert s.file_id == "fid" and s.file_unique_id == "uid"
    assert s.as_dict()["kind"] == kind


@pytest.mark.parametrize("kw,code", [
    ({"file_name": "surat.docx",
      "mime_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
     "scan_type"),
    ({"file_name": "scan.heic", "mime_type": "image/heic"}, "scan_type"),
    ({"file_name": "surat.txt", "mime_type": "text/plain"}, "scan_type"),
    ({"file_name": "surat.pdf", "mime_type": "image/jpeg"}, "scan_type"),  # mismatching extension
    ({"file_name": "surat.png", "mime_type": "application/pdf"}, "scan_type"),
    ({"file_name": "scan.jpg", "mime_type": "image/png"}, "scan_type"),
    ({"file_name": "surat.exe", "mime_type": "application/octet-stream"}, "scan_type"),
    ({"file_name": "surat", "mime_type": "application/octet-stream"}, "scan_type"),
    ({"file_name": None, "mime_type": None}, "scan_type"),
    ({"size": MAX_SCAN_BYTES + 1}, "scan_too_big"),
    ({"is_photo": True, "file_name": None, "mime_type": None, "size": MAX_SCAN_BYTES + 1},
     "scan_too_big"),
    ({"size": 99}, "scan_empty"),
    ({"size": 0}, "scan_empty"),
])
def test_scan_rejected(kw: dict, code: str) -> None:
    assert code_of(scan, **kw) == code


def test_scan_too_big_carries_limit_in_mb() -> None:
    with pytest.raises(Invalid) as exc:
        scan(size=MAX_SCAN_BYTES + 1)
    assert exc.value.params == {"max_mb": 20}


# --- next_missing and precheck -------------------------------------------------------------

def test_form_field_order() -> None:
    assert FORM_FIELDS == (
        Field.AGENCY, Field.LETTER_NUMBER, Field.LETTER_DATE, Field.SUBJECT, Field.CONTACT_NAME,
        Field.CONTACT_EMAIL, Field.CONTACT_PHONE, Field.APP_NAME, Field.BUSINESS_PROCESS,
        Field.SCAN,
    )


def test_next_missing_walks_the_form_in_order() -> None:
    data: dict[str, object] = {}
    for f in FORM_FIELDS:
        assert next_missing(data) == f
        data[f.value] = "x"
    assert next_missing(data) is None


def test_next_missing_treats_empty_and_none_as_missing() -> None:
    data = {f.value: "x" for f in FORM_FIELDS}
    data[Field.CONTACT_EMAIL.value] = ""
    data[Field.SCAN.value] = None
    assert next_missing(data) == Field.CONTACT_EMAIL
    data[Field.CONTACT_EMAIL.value] = "a@b.id"
    assert next_missing(data) == Field.SCAN


def test_next_missing_returns_the_first_gap_not_the_last() -> None:
    data = {f.value: "x" for f in FORM_FIELDS}
    del data[Field.LETTER_DATE.value]
    del data[Field.APP_NAME.value]
    assert next_missing(data) == Field.LETTER_DATE


GOOD_DATA = {
    "contact_name": "Budi Santoso",
    "contact_email": "budi@bogorkota.go.id",
    "contact_phone": "+6281234567890",
    "business_process": GOOD_PROCESS,
}


ITEMS = bogor().items
CODES = [i.code for i in ITEMS]


def test_precheck_all_good() -> None:
    assert precheck(GOOD_DATA, ITEMS) == {code: True for code in CODES}


def test_precheck_empty_data_all_bad() -> None:
    assert precheck({}, ITEMS) == {code: False for code in CODES}


def test_precheck_of_the_letter_scan_and_of_an_item_without_one() -> None:
    """The regency's fifth item is checked against the kept scan; an item the SOP gives no
    pre-check is left to the executor (None)."""
    from workflow.sop import Item

    scan = {"file_id": "f", "stored_file_id": 3, "size": 20_000, "kind": "pdf"}
    items = sukamaju().items
    assert precheck({**GOOD_DATA, "scan": scan}, items)["signed_letter"] is True
    assert precheck({**GOOD_DATA, "scan": {**scan, "stored_file_id": None}}, items)["signed_letter"] is False
    assert precheck(GOOD_DATA, items)["signed_letter"] is False
    assert precheck(GOOD_DATA, (Item(code="stempel", label="Cap dinas"),)) == {"stempel": None}


@pytest.mark.parametrize("item,bad", [
    ("contact_name", "B2"),
    ("contact_email", "budi@kominfo"),
    ("contact_phone", "021 1234567"),
    ("business_process", "terlalu pendek"),
])
def test_precheck_flags_only_the_bad_item(item: str, bad: str) -> None:
    data = dict(GOOD_DATA, **{item: bad})
    result = precheck(data, ITEMS)
    assert result[item] is False
    assert all(ok for other, ok in result.items() if other != item)


# --- agencies ------------------------------------------------------------------------------

DINKES = AgencyRef(1, "dinkes", "Dinas Kesehatan", "Dinkes")
DISDIK = AgencyRef(2, "disdik", "Dinas Pendidikan", "Disdik")
DISKOMINFO = AgencyRef(3, "diskominfo", "Dinas Komunikasi dan Informatika", "Diskominfo")
DLH = AgencyRef(4, "dlh", "Dinas Lingkungan Hidup", "DLH")
UPTD_DLH = AgencyRef(5, "uptd-dlh", "UPTD Pengelolaan Sampah DLH", "UPTD DLH")
SATPOL = AgencyRef(6, "satpolpp", "Satuan Polisi Pamong Praja", "Satpol PP")
BKAD = AgencyRef(7, "bkad", "Badan Keuangan dan Aset Daerah", "BKAD")
DP3A = AgencyRef(8, "dp3a", "Dinas Pemberdayaan Perempuan dan Perlindungan Anak", "DP3A")
AGENCIES = [DINKES, DISDIK, DISKOMINFO, DLH, UPTD_DLH, SATPOL, BKAD, DP3A]


def test_exact_short_name_wins() -> None:
    # "dlh" is also contained in UPTD DLH, but the exact short name wins outright
    assert find_agencies("dlh", AGENCIES) == [DLH]
    assert find_agencies("DLH", AGENCIES) == [DLH]
    assert find_agencies("Diskominfo", AGENCIES) == [DISKOMINFO]


def test_exact_short_name_ignores_punctuation() -> None:
    assert find_agencies("satpol-pp", AGENCIES) == [SATPOL]
    assert find_agencies("Satpol PP", AGENCIES) == [SATPOL]


def test_exact_code_wins() -> None:
    assert find_agencies("uptd-dlh", AGENCIES) == [UPTD_DLH]
    assert find_agencies("dp3a", AGENCIES) == [DP3A]


def test_multi_word_query_needs_every_word() -> None:
    assert find_agencies("dinas kesehatan", AGENCIES) == [DINKES]
    assert find_agencies("kesehatan dinas", AGENCIES) == [DINKES]
    assert find_agencies("dinas sehat", AGENCIES) == [DINKES]  # words match as substrings
    assert find_agencies("badan keuangan", AGENCIES) == [BKAD]
    assert find_agencies("dinas keuangan", AGENCIES) == []
    assert find_agencies("dinas xyz", AGENCIES) == []


def test_search_is_case_insensitive() -> None:
    assert find_agencies("DINAS KESEHATAN", AGENCIES) == [DINKES]
    assert find_agencies("dInAs KoMuNiKaSi", AGENCIES) == [DISKOMINFO]


def test_partial_match_returns_all_in_order() -> None:
    assert find_agencies("sampah", AGENCIES) == [UPTD_DLH]
    assert find_agencies("dinas", AGENCIES) == [DINKES, DISDIK, DISKOMINFO, DLH, DP3A]


def test_limit() -> None:
    assert find_agencies("dinas", AGENCIES, limit=2) == [DINKES, DISDIK]
    many = [AgencyRef(100 + i, f"dinas{i}", f"Dinas Nomor {i}", f"D{i}") for i in range(20)]
    assert len(find_agencies("dinas", many)) == 8


@pytest.mark.parametrize("query", ["", " ", "d", "D", " - ", "d!", "!!"])
def test_short_query_returns_nothing(query: str) -> None:
    assert find_agencies(query, AGENCIES) == []


def test_no_agencies() -> None:
    assert find_agencies("dinas", []) == []


def test_parse_contact_number_adds_the_plus_telegram_leaves_out() -> None:
    from workflow.form import parse_contact_number

    assert parse_contact_number("6281234567890") == "+6281234567890"
    assert parse_contact_number("+6281234567890") == "+6281234567890"
    assert parse_contact_number("081234567890") == "+6281234567890"
    with pytest.raises(Invalid) as e:
        parse_contact_number("16502530000")
    assert e.value.code == "phone_not_indonesian"


def test_the_email_and_phone_libraries_load_at_the_first_answer_that_needs_them() -> None:
    """email-validator and phonenumbers (their data about 1.3 MB resident) stay out of a bot that has
    not been given an email or a number yet; the first one loads them and is checked as ever."""
    code = ("import sys, main, bot.app, handlers\n"
            "assert not {'email_validator', 'phonenumbers'} & set(sys.modules), 'loaded at start'\n"
            "from workflow.form import parse_email, parse_mobile\n"
            "assert parse_email(' Siti.Aminah@KotaBogor.go.id ') == 'Siti.Aminah@kotabogor.go.id'\n"
            "assert parse_mobile('0812-3456-7890') == '+6281234567890'\n"
            "assert {'email_validator', 'phonenumbers'} <= set(sys.modules)\n")
    in_fresh_process(code)


def test_the_summary_edit_buttons_fit_two_to_a_row_on_a_phone() -> None:
    """The summary's «✏️ field» buttons go two to a row; at a phone's 390 px a label of up to 16
    characters shows whole («Email narahubung»), a longer one is cut («Nomor ponsel n…»)."""
    from bot.texts import FIELD_LABELS
    from workflow.form import FORM_FIELDS

    assert set(FIELD_LABELS) == set(FORM_FIELDS)
    assert [label for label in FIELD_LABELS.values() if len(label) > 16] == []
