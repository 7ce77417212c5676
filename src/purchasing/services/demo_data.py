"""What the demo is made of: two companies, their farms, partners and catalog, and the people."""

from __future__ import annotations

from dataclasses import dataclass

from purchasing.domain.roles import Role
from purchasing.domain.statuses import Kind, Status


@dataclass(frozen=True)
class DemoCompany:
    name: str
    invoice_prefix: str
    farms: tuple[tuple[str, str, str], ...]
    suppliers: tuple[tuple[str, str], ...]
    expeditions: tuple[tuple[str, str], ...]
    purchases_per_kind: int
    clerk: str  # the username who creates its purchases
    closer: str  # the username who completes them (Supervisor or higher)


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    company: str | None = None
    farms: tuple[str, ...] = ()

    @property
    def password(self) -> str:
        return f"{self.username}-demo"


MAIN = DemoCompany(
    name="PT Unggas Nusantara Sejahtera",
    invoice_prefix="INV",
    farms=(
        ("F01", "Farm Sukamaju", "Jl. Raya Sukamaju No. 12, Bogor"),
        ("F02", "Farm Cibadak Makmur", "Desa Cibadak, Sukabumi"),
        (
            "F03",
            "Farm Lembang Asri Peternakan Ayam Broiler Terpadu",
            "Jl. Kolonel Masturi 88, Lembang",
        ),
    ),
    suppliers=(
        ("SUP01", "PT Medion Farma Jaya"),
        ("SUP02", "PT Charoen Pokphand Indonesia Tbk"),
        ("SUP03", "PT Japfa Comfeed Indonesia"),
        ("SUP04", "CV Sumber Ternak Sejahtera Abadi Makmur Sentosa"),
    ),
    expeditions=(("EXP01", "CV Ekspedisi Cepat Sampai"), ("EXP02", "PT Logistik Unggas Mandiri")),
    purchases_per_kind=45,
    clerk="admin",
    closer="supervisor",
)
# A second, smaller company: its people must never see the first one's purchases, nor the reverse.
OTHER = DemoCompany(
    name="CV Ternak Makmur Jaya",
    invoice_prefix="TMJ",
    farms=(("G01", "Farm Gunung Sari", "Desa Gunung Sari, Garut"),),
    suppliers=(("SUP01", "PT Sumber Pakan Priangan"),),
    expeditions=(("EXP01", "CV Angkutan Priangan"),),
    purchases_per_kind=8,
    clerk="admin2",
    closer="admin2",
)
COMPANIES = (MAIN, OTHER)
USERS = (
    DemoUser("superadmin", Role.SUPER_ADMIN),
    DemoUser("admin", Role.ADMINISTRATOR, MAIN.name),
    DemoUser("manager", Role.MANAGER, MAIN.name),
    DemoUser("supervisor", Role.SUPERVISOR, MAIN.name),
    DemoUser("operator", Role.OPERATOR, MAIN.name, ("F01", "F02")),
    DemoUser("operator3", Role.OPERATOR, MAIN.name, ("F03",)),
    DemoUser("admin2", Role.ADMINISTRATOR, OTHER.name),
    DemoUser("operator4", Role.OPERATOR, OTHER.name, ("G01",)),
)
UNITS = (
    ("GRAM", "Gram"),
    ("KG", "Kilogram"),
    ("SAK", "Sak (50 kg)"),
    ("LITER", "Liter"),
    ("ML", "Mililiter"),
    ("VIAL", "Vial"),
    ("TABLET", "Tablet"),
    ("PCS", "Pieces"),
)
ITEMS = (
    (Kind.SUPPLY, "OVK-VIT", "Vitamin Vita Stress", "GRAM", {"GRAM": 1, "KG": 1000}),
    (Kind.SUPPLY, "OVK-VAK", "Vaksin ND-IB Live", "VIAL", {"VIAL": 1}),
    (Kind.SUPPLY, "OVK-DES", "Desinfektan Antisep", "LITER", {"ML": 1, "LITER": 1000}),
    (Kind.SUPPLY, "OVK-ANT", "Antibiotik Doxytin", "TABLET", {"TABLET": 1, "PCS": 100}),
    (Kind.FEED, "PKN-BR1", "BR-1 Starter Crumble", "SAK", {"GRAM": 1, "KG": 1000, "SAK": 50000}),
    (Kind.FEED, "PKN-BR2", "BR-2 Finisher Pellet", "SAK", {"GRAM": 1, "KG": 1000, "SAK": 50000}),
)
STRAINS = ("Cobb 500", "Ross 308", "Lohmann MB 202")
PATHS = {
    Status.DRAFT: (),
    Status.PENDING: (Status.PENDING,),
    Status.CONFIRMED: (Status.PENDING, Status.CONFIRMED),
    Status.IN_TRANSIT: (Status.CONFIRMED, Status.IN_TRANSIT),
    Status.ARRIVED: (Status.CONFIRMED, Status.IN_TRANSIT, Status.ARRIVED),
    Status.IN_COOP: (Status.CONFIRMED, Status.ARRIVED, Status.IN_COOP),
    Status.COMPLETED: (Status.CONFIRMED, Status.ARRIVED, Status.COMPLETED),
    Status.CANCELLED: (Status.PENDING, Status.CANCELLED),
}
PREFIX = {Kind.SUPPLY: "OVK", Kind.FEED: "PKN", Kind.LIVESTOCK: "DOC"}
