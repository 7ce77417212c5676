"""Piccolo tables. Rules live in `domain/`; these only describe storage."""

from decimal import Decimal

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LazyTableReference,
    Numeric,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

MONEY = (18, 2)
QUANTITY = (18, 4)
ZERO = Decimal(0)
RESTRICT = OnDelete.restrict
CASCADE = OnDelete.cascade
SET_NULL = OnDelete.set_null


def _user_ref() -> LazyTableReference:
    return LazyTableReference("AppUser", module_path=__name__)


class Identified:
    """Piccolo adds this key by itself; declaring it lets type checkers see `id`."""

    id = Serial(primary_key=True)


class Audited(Identified):
    """Who made and last changed a row, and when."""

    created_by: ForeignKey["AppUser"] = ForeignKey(_user_ref(), null=True, on_delete=SET_NULL)
    updated_by: ForeignKey["AppUser"] = ForeignKey(_user_ref(), null=True, on_delete=SET_NULL)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Company(Identified, Table):
    name = Varchar(length=120, unique=True)


class AppUser(Identified, Table):
    username = Varchar(length=64, unique=True)
    full_name = Varchar(length=120)
    password_hash = Varchar(length=255, secret=True)
    role = Varchar(length=32)
    company = ForeignKey(Company, null=True, on_delete=RESTRICT)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # The language they chose to read the app in (purchasing/i18n.py); '' until they choose.
    language = Varchar(length=8, default="")


class Farm(Audited, Table):
    company = ForeignKey(Company, null=False, on_delete=RESTRICT)
    code = Varchar(length=16)
    name = Varchar(length=120)
    address = Text(default="")
    capacity = Integer(default=0)
    status = Varchar(length=16, default="active")


class UserFarm(Identified, Table):
    """The farms an Operator is assigned to."""

    user = ForeignKey(AppUser, null=False, on_delete=CASCADE, index=True)
    farm = ForeignKey(Farm, null=False, on_delete=CASCADE)


class Coop(Audited, Table):
    farm = ForeignKey(Farm, null=False, on_delete=RESTRICT, index=True)
    code = Varchar(length=16)
    name = Varchar(length=120)
    capacity = Integer(default=0)
    population = Integer(default=0)


class Flock(Audited, Table):
    coop = ForeignKey(Coop, null=False, on_delete=RESTRICT, index=True)
    code = Varchar(length=32)
    name = Varchar(length=120)
    start_date = Date()
    population = Integer(default=0)
    status = Varchar(length=16, default="active")


class Partner(Audited, Table):
    """A supplier or an expedition (shipping company)."""

    company = ForeignKey(Company, null=False, on_delete=RESTRICT)
    kind = Varchar(length=16)
    code = Varchar(length=16)
    name = Varchar(length=160)
    contact_name = Varchar(length=120, default="")
    phone = Varchar(length=32, default="")
    address = Text(default="")


class Unit(Audited, Table):
    code = Varchar(length=16, unique=True)
    name = Varchar(length=64)


class Item(Audited, Table):
    """A supply item (medicine, vitamin, disinfectant) or a feed."""

    company = ForeignKey(Company, null=False, on_delete=RESTRICT)
    kind = Varchar(length=16)
    code = Varchar(length=32)
    name = Varchar(length=160)
    base_unit = ForeignKey(Unit, null=False, on_delete=RESTRICT)


class ItemUnit(Audited, Table):
    """A unit an item is bought in; `value` counts the item's smallest unit."""

    item = ForeignKey(Item, null=False, on_delete=CASCADE, index=True)
    unit = ForeignKey(Unit, null=False, on_delete=RESTRICT)
    value = Numeric(digits=QUANTITY)


class Purchase(Audited, Table):
    """One purchase of any kind; kind-specific lines live in their own tables."""

    company = ForeignKey(Company, null=False, on_delete=RESTRICT)
    kind = Varchar(length=16, index=True)
    invoice_number = Varchar(length=64)
    do_number = Varchar(length=64, default="")
    purchase_date = Date(index=True)
    farm = ForeignKey(Farm, null=False, on_delete=RESTRICT, index=True)
    coop = ForeignKey(Coop, null=True, on_delete=RESTRICT)
    supplier = ForeignKey(Partner, null=False, on_delete=RESTRICT)
    expedition = ForeignKey(Partner, null=True, on_delete=RESTRICT)
    expedition_fee = Numeric(digits=MONEY, default=ZERO)
    notes = Text(default="")
    status = Varchar(length=16, index=True)
    version = Integer(default=1)
    subtotal = Numeric(digits=MONEY, default=ZERO)
    tax_total = Numeric(digits=MONEY, default=ZERO)
    grand_total = Numeric(digits=MONEY, default=ZERO)
    head_count = Integer(default=0)


class GoodsLine(Identified):
    """Columns shared by supply and feed lines."""

    position = Integer(default=0)
    quantity = Numeric(digits=QUANTITY)
    price_per_unit = Numeric(digits=MONEY)
    converted_quantity = Numeric(digits=QUANTITY)
    converted_unit = ForeignKey(Unit, null=False, on_delete=RESTRICT)
    price_per_converted_unit = Numeric(digits=QUANTITY)
    line_total = Numeric(digits=MONEY)


class SupplyLine(GoodsLine, Table):
    purchase = ForeignKey(Purchase, null=False, on_delete=CASCADE, index=True)
    item = ForeignKey(Item, null=False, on_delete=RESTRICT)
    unit = ForeignKey(Unit, null=False, on_delete=RESTRICT)


class FeedLine(GoodsLine, Table):
    purchase = ForeignKey(Purchase, null=False, on_delete=CASCADE, index=True)
    flock = ForeignKey(Flock, null=False, on_delete=RESTRICT)
    item = ForeignKey(Item, null=False, on_delete=RESTRICT)
    unit = ForeignKey(Unit, null=False, on_delete=RESTRICT)


class LivestockLine(Identified, Table):
    purchase = ForeignKey(Purchase, null=False, on_delete=CASCADE, index=True)
    position = Integer(default=0)
    strain = Varchar(length=120)
    head_count = Integer()
    price_given = Varchar(length=16)
    price_per_head = Numeric(digits=MONEY)
    price_total = Numeric(digits=MONEY)
    weight_given = Varchar(length=16)
    weight_per_head_g = Numeric(digits=QUANTITY)
    weight_total_g = Numeric(digits=QUANTITY)
    tax_percent = Numeric(digits=(5, 2), default=ZERO)
    tax_amount = Numeric(digits=MONEY, default=ZERO)
    line_total = Numeric(digits=MONEY)


class StatusHistory(Identified, Table):
    purchase = ForeignKey(Purchase, null=False, on_delete=CASCADE, index=True)
    from_status = Varchar(length=16, null=True)
    to_status = Varchar(length=16)
    notes = Text(default="")
    changed_by = ForeignKey(AppUser, null=True, on_delete=SET_NULL)
    changed_at = Timestamptz(default=TimestamptzNow())
    client_ip = Varchar(length=64, default="")
    user_agent = Varchar(length=255, default="")


class OutboxEvent(Identified, Table):
    """An event written in the transaction of the change it describes; its id is the stream id."""

    type = Varchar(length=64)
    kind = Varchar(length=16)
    purchase = Integer(index=True)  # a deleted purchase's page says who deleted it, and when
    company = Integer()
    farm = Integer()
    payload = Text()
    created_at = Timestamptz(default=TimestamptzNow())


ALL_TABLES: tuple[type[Table], ...] = (
    Company,
    AppUser,
    Farm,
    UserFarm,
    Coop,
    Flock,
    Partner,
    Unit,
    Item,
    ItemUnit,
    Purchase,
    SupplyLine,
    FeedLine,
    LivestockLine,
    StatusHistory,
    OutboxEvent,
)
