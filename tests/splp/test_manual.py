"""The manual adapter (nothing is called) and the factory."""

from __future__ import annotations

import pytest

from splp import (AccountRecord, AccountSpec, AppSpec, Invalid, Login, ManualAdapter, NotAutomated,
                  SPLPAdapter, make_adapter)
from splp.wso2 import WSO2Adapter

SPEC = AccountSpec("dinkes.simpus", "Budi", "Santoso", "cp@bogorkota.go.id", "+6281234567890")
TENANT = "bogorkota.go.id"


@pytest.fixture
def manual() -> ManualAdapter:
    return ManualAdapter(tenant_domain=TENANT)


async def test_records_an_account_with_an_initial_password(manual):
    record = AccountRecord(f"dinkes.simpus@{TENANT}", initial_password="Awal#2026Simpus")
    acc = await manual.create_account(SPEC, record)
    assert acc.username_with_tenant == f"dinkes.simpus@{TENANT}"
    assert acc.initial_password == "Awal#2026Simpus" and acc.must_change_password
    assert not acc.credentials_sent_by_portal and acc.user_id is None


async def test_records_an_account_whose_credentials_the_portal_emailed(manual):
    acc = await manual.create_account(SPEC, AccountRecord(f"dinkes.simpus@BogorKota.go.id", sent_by_portal=True,
                                                          user_id="u-1"))
    assert acc.username_with_tenant == f"dinkes.simpus@{TENANT}"
    assert acc.initial_password is None and acc.credentials_sent_by_portal and not acc.must_change_password


@pytest.mark.parametrize("record, fragment", [
    (AccountRecord("dinkes.simpus@jakarta.go.id", sent_by_portal=True), "nama@bogorkota.go.id"),
    (AccountRecord("dinkes.simpus", sent_by_portal=True), "nama@bogorkota.go.id"),
    (AccountRecord("a b@bogorkota.go.id", sent_by_portal=True), "nama@bogorkota.go.id"),
    (AccountRecord(f"dinkes.simpus@{TENANT}"), "pilih salah satu"),
    (AccountRecord(f"dinkes.simpus@{TENANT}", initial_password="Awal#2026Simpus", sent_by_portal=True),
     "pilih salah satu"),
    (AccountRecord(f"dinkes.simpus@{TENANT}", initial_password="pendek"), "paling sedikit 8"),
])
async def test_refuses_bad_records(manual, record, fragment):
    with pytest.raises(Invalid) as e:
        await manual.create_account(SPEC, record)
    assert fragment in e.value.message_id


async def test_no_record_is_invalid(manual):
    with pytest.raises(Invalid):
        await manual.create_account(SPEC)


async def test_procedure_b_is_not_automated_and_carries_the_portal_steps(manual):
    login = Login(f"dinkes.simpus@{TENANT}", "x" * 10)
    with pytest.raises(NotAutomated) as e:
        await manual.create_application(login, AppSpec("SIMPUS"))
    assert e.value.code == "not_automated" and not manual.automated
    steps = e.value.steps
    assert [s.code for s in steps] == ["B1", "B2", "B3", "B3", "B3"]
    assert all(s.url.startswith("https://splp.layanan.go.id/devportal") for s in steps)
    assert any("Application Name" in f for f in steps[1].fields)
    # API key after subscribing
    titles = [s.title for s in steps]
    assert titles.index("Berlangganan API yang dibutuhkan") < titles.index("Membuat API key")
    for call in (manual.list_apis(), manual.generate_keys(login, "a"), manual.subscribe(login, "a", "b"),
                 manual.generate_api_key(login, "a"), manual.delete_application(login, "a")):
        with pytest.raises(NotAutomated):
            await call
    assert manual.portal_steps("A")[0].code == "A5"


async def test_factory():
    m = make_adapter("manual", tenant_domain=TENANT)
    w = make_adapter("wso2", base_url="https://splp.layanan.go.id", tenant_domain=TENANT,
                     admin_username="admin", admin_password="pw")
    try:
        assert isinstance(m, ManualAdapter) and isinstance(w, WSO2Adapter)
        assert isinstance(m, SPLPAdapter) and isinstance(w, SPLPAdapter)
        assert m.mode == "manual" and w.mode == "wso2" and w.automated
        assert w.admin_username == f"admin@{TENANT}"
        assert w.portal_steps()[0].url.startswith("https://splp.layanan.go.id/devportal")
    finally:
        await w.aclose()
    with pytest.raises(ValueError):
        make_adapter("soap")
