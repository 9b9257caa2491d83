"""The sandbox's demo people (personas), cast onto the roles of the SOP it runs.

The requester, the contact person and the admin are always there. The officials fill the SOP's
chain in order -- its first hop, its next hops, then the executor -- and any other role the SOP
defines gets a persona of its own. The people (names, Telegram ids, phone numbers) are demo data,
not SOP content: the same person plays the first hop whatever the office calls that role.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.sop import ADMIN, Sop


@dataclass(frozen=True)
class Persona:
    """A demo user with a pane on the page."""

    key: str
    user_id: int
    name: str
    title: str  # shown under the name (Indonesian)
    phone: str  # the persona's own mobile number, shared by "share my contact" (E.164 digits)
    role: str | None = None


# The chain's hops in order (a chain has one to five), the executor, other roles of the SOP.
HOPS = (("head", 1001, "Rahmat Hidayat"), ("division", 1002, "Dewi Kartika"), ("team", 1003, "Agus Salim"),
        ("hop4", 1007, "Eko Prasetyo"), ("hop5", 1008, "Fitri Handayani"))
EXECUTOR = ("executor", 1004, "Budi Pranoto")
OTHERS = (("other1", 1009, "Gita Permata"), ("other2", 1010, "Hendra Wijaya"), ("other3", 1011, "Indah Lestari"),
          ("other4", 1012, "Joko Susilo"))


def _phone(user_id: int) -> str:
    return f"6281100000{user_id - 1000:03d}"


def personas(sop: Sop) -> tuple[Persona, ...]:
    """Requester, contact person, one official per role of ``sop`` (chain first), admin."""
    # The contact person's number is the one to type into the request form (0812-3456-7890).
    out = [Persona("requester", 5001, "Rina Wulandari", "Pemohon · Dinas Kesehatan", "6281298765432"),
           Persona("contact", 6200, "Siti Aminah", "Narahubung · Dinas Kesehatan", "6281234567890")]
    cast: dict[str, tuple[str, int, str]] = {}
    hops = [sop.holder(st) or "" for st in sop.chain]
    for role, slot in zip(dict.fromkeys(hops), HOPS):
        cast[role] = slot
    cast.setdefault(sop.executor, EXECUTOR)
    spare = iter(OTHERS)
    for role in sop.roles:
        if role not in cast:
            cast[role] = next(spare)
    for role, (key, uid, name) in cast.items():
        out.append(Persona(key, uid, name, sop.role_title(role), _phone(uid), role))
    out.append(Persona("admin", 1006, f"Admin {sop.identity.office_short}", "Admin bot", _phone(1006), ADMIN))
    return tuple(out)


def by_role(cast: tuple[Persona, ...]) -> dict[str, Persona]:
    return {p.role: p for p in cast if p.role is not None}


__all__ = ["Persona", "by_role", "personas"]
