"""Manual adapter: the executor works on splp.layanan.go.id and records the result in the bot.

Nothing here calls SPLP. ``create_account`` checks what the executor recorded and turns it
into an `Account`; procedure-B methods raise `NotAutomated` carrying the portal steps
(the same data `portal_steps()` returns), which the bot shows to the person doing them.
"""

from __future__ import annotations

from typing import Literal

from splp.adapter import (
    Account,
    AccountRecord,
    AccountSpec,
    ApiInfo,
    ApiKey,
    App,
    AppSpec,
    DeleteResult,
    KeySpec,
    Keys,
    Login,
    NotAutomated,
    PortalStep,
    Subscription,
    USERNAME_RE,
    Token,
    make_error,
    split_login,
)

DEFAULT_PORTAL_URL = "https://splp.layanan.go.id"

NOT_AUTOMATED_B = ("Langkah ini tidak dijalankan otomatis oleh bot. Silakan lakukan melalui Portal "
                   "Pengguna SPLP sesuai petunjuk berikut, lalu catat hasilnya pada bot.")


def portal_steps(procedure: Literal["A", "B"], tenant_domain: str,
                 portal_url: str = DEFAULT_PORTAL_URL) -> tuple[PortalStep, ...]:
    """The portal steps as data (Indonesian), for the bot to show."""
    base = portal_url.rstrip("/")
    devportal = f"{base}/devportal"
    if procedure == "A":
        return (
            PortalStep(
                "A5", "Mendaftarkan akun SPLP untuk unit kerja pemohon", base,
                (f"Masuk ke {base} sebagai admin tenant {tenant_domain}.",
                 "Tambahkan pengguna baru dengan data contact person dari surat permohonan.",
                 "Berikan peran pengguna Portal Pengguna (subscriber) kepada akun tersebut.",
                 "Catat nama pengguna lengkap beserta domain tenant, lalu catat kata sandi awal "
                 "atau tandai bahwa kredensial dikirim oleh portal melalui email."),
                fields=("Nama pengguna", "Nama depan", "Nama belakang", "Email", "Nomor ponsel"),
                record=(f"Nama pengguna (format nama@{tenant_domain})",
                        "Kata sandi awal, atau keterangan bahwa kredensial dikirim portal melalui email"),
            ),
        )
    return (
        PortalStep(
            "B1", "Membuka Portal Pengguna SPLP", f"{devportal}/apis?tenant={tenant_domain}",
            (f"Buka {devportal} lalu pilih Sign In.",
             f"Masuk dengan nama pengguna lengkap (nama@{tenant_domain}) dan kata sandi akun SPLP.",
             "Jika diminta, ganti kata sandi awal terlebih dahulu."),
        ),
        PortalStep(
            "B2", "Membuat aplikasi di Portal Pengguna", f"{devportal}/applications/create",
            ("Buka menu Applications lalu pilih Add New Application.",
             "Isi data aplikasi lalu pilih Save."),
            fields=("Application Name (nama aplikasi, paling banyak 100 karakter)",
                    "Per Token Quota (kuota aplikasi, misalnya Unlimited)",
                    "Application Description (deskripsi, paling banyak 512 karakter)"),
            record=("Nama aplikasi", "Status aplikasi (APPROVED atau menunggu persetujuan)"),
        ),
        PortalStep(
            "B3", "Membuat OAuth2 Token", f"{devportal}/applications",
            ("Buka aplikasi lalu pilih Production Keys > OAuth2 Tokens.",
             "Centang grant type Client Credentials lalu pilih Generate Keys.",
             "Simpan Consumer Key dan Consumer Secret; Consumer Secret dapat hanya ditampilkan sekali.",
             "Pilih Generate Access Token untuk membuat access token."),
            record=("Consumer Key", "Consumer Secret", "Access token dan masa berlakunya"),
        ),
        PortalStep(
            "B3", "Berlangganan API yang dibutuhkan", f"{devportal}/apis?tenant={tenant_domain}",
            ("Buka menu APIs lalu pilih API yang dibutuhkan.",
             "Pilih Subscriptions, pilih aplikasi dan Business Plan, lalu pilih Subscribe.",
             "Jika status langganan ON_HOLD, tunggu persetujuan admin SPLP."),
            record=("Nama dan versi API", "Status langganan"),
        ),
        PortalStep(
            "B3", "Membuat API key", f"{devportal}/applications",
            ("Lakukan setelah berlangganan API: API key memuat daftar langganan saat dibuat.",
             "Buka aplikasi lalu pilih Production Keys > API Key, kemudian Generate Key.",
             "Buat ulang API key setiap kali menambah langganan API baru."),
            record=("API key dan masa berlakunya",),
        ),
    )


class ManualAdapter:
    """`SPLPAdapter` for the manual route (no calls to SPLP)."""

    mode: Literal["manual", "wso2"] = "manual"

    def __init__(self, tenant_domain: str, portal_url: str = DEFAULT_PORTAL_URL) -> None:
        if not tenant_domain or "@" in tenant_domain or "." not in tenant_domain:
            raise ValueError("tenant_domain must be a domain such as kotacontoh.go.id")
        self.tenant_domain = tenant_domain.lower()
        self.portal_url = portal_url.rstrip("/")

    @property
    def automated(self) -> bool:
        return False

    def portal_steps(self, procedure: Literal["A", "B"] = "B") -> tuple[PortalStep, ...]:
        return portal_steps(procedure, self.tenant_domain, self.portal_url)

    # ---- procedure A -------------------------------------------------------------------
    async def create_account(self, spec: AccountSpec, record: AccountRecord | None = None) -> Account:
        """Validate what the executor recorded; nothing is called."""
        problems = []
        if record is None:
            raise make_error("invalid", "Data akun yang didaftarkan di portal SPLP belum dicatat.")
        try:
            user, tenant = split_login(record.username_with_tenant.strip())
        except ValueError:
            user, tenant = "", ""
        if tenant.lower() != self.tenant_domain or not USERNAME_RE.match(user):
            problems.append(f"Nama pengguna harus berformat nama@{self.tenant_domain} "
                            "(3-30 karakter huruf, angka, titik, garis bawah, atau tanda hubung).")
        pw = record.initial_password
        if pw is not None and (len(pw) < 8 or any(c.isspace() for c in pw)):
            problems.append("Kata sandi awal paling sedikit 8 karakter dan tidak boleh mengandung spasi.")
        if (pw is None) == (not record.sent_by_portal):
            problems.append("Catat kata sandi awal, atau tandai bahwa kredensial dikirim oleh portal "
                            "melalui email (pilih salah satu).")
        if problems:
            raise make_error("invalid", "Data akun yang dicatat belum valid: " + " ".join(problems),
                             details=tuple(problems))
        return Account(
            username_with_tenant=f"{user}@{self.tenant_domain}",
            user_id=record.user_id,
            initial_password=pw,
            must_change_password=pw is not None,
            credentials_sent_by_portal=record.sent_by_portal,
        )

    async def assign_subscriber_role(self, account: Account) -> Account:
        raise NotAutomated(NOT_AUTOMATED_B, self.portal_steps("A"))

    # ---- procedure B: shown as portal steps ---------------------------------------------
    def _not_automated(self) -> NotAutomated:
        return NotAutomated(NOT_AUTOMATED_B, self.portal_steps("B"))

    async def list_apis(self, login: Login | None = None, query: str = "", *,
                        tenant: str | None = None, limit: int = 25, offset: int = 0) -> list[ApiInfo]:
        raise self._not_automated()

    async def get_api(self, login: Login | None, api_id: str, *, tenant: str | None = None) -> ApiInfo:
        raise self._not_automated()

    async def list_tiers(self, login: Login | None,
                         level: Literal["application", "subscription"] = "application") -> list[str]:
        raise self._not_automated()

    async def create_application(self, login: Login, spec: AppSpec) -> App:
        raise self._not_automated()

    async def get_application(self, login: Login, app_id: str) -> App:
        raise self._not_automated()

    async def find_application(self, login: Login, name: str) -> App | None:
        raise self._not_automated()

    async def generate_keys(self, login: Login, app_id: str, spec: KeySpec = KeySpec()) -> Keys:
        raise self._not_automated()

    async def get_keys(self, login: Login, app_id: str,
                       key_type: Literal["PRODUCTION", "SANDBOX"] = "PRODUCTION") -> Keys | None:
        raise self._not_automated()

    async def regenerate_secret(self, login: Login, app_id: str, key_mapping_id: str) -> Keys:
        raise self._not_automated()

    async def generate_token(self, login: Login, app_id: str, key_mapping_id: str, consumer_secret: str,
                             *, validity: int = 3600, scopes: tuple[str, ...] = ("default",),
                             revoke_token: str | None = None) -> Token:
        raise self._not_automated()

    async def subscribe(self, login: Login, app_id: str, api_id: str, tier: str = "Unlimited", *,
                        provider_tenant: str | None = None) -> Subscription:
        raise self._not_automated()

    async def list_subscriptions(self, login: Login, app_id: str) -> list[Subscription]:
        raise self._not_automated()

    async def unsubscribe(self, login: Login, subscription_id: str) -> None:
        raise self._not_automated()

    async def generate_api_key(self, login: Login, app_id: str,
                               key_type: Literal["PRODUCTION", "SANDBOX"] = "PRODUCTION", *,
                               validity: int = -1, permitted_ips: str = "",
                               permitted_referers: str = "") -> ApiKey:
        raise self._not_automated()

    async def revoke_api_key(self, login: Login, app_id: str, api_key: str,
                             key_type: Literal["PRODUCTION", "SANDBOX"] = "PRODUCTION") -> None:
        raise self._not_automated()

    async def delete_application(self, login: Login, app_id: str) -> DeleteResult:
        raise self._not_automated()

    def session_grant(self, login: Login) -> None:
        return None

    async def aclose(self) -> None:
        return None
