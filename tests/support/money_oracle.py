"""An independent oracle of Dynamics 365 Sales invoice totals, computed from the raw fields a
user types (quantity, price, discounts, freight, tax), written from Microsoft's pricing rules
without the sandbox's or the connector's code, and random invoices for generative tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import strategies as st

ZERO = Decimal(0)


def rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(10) ** -places, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RawLine:
    quantity: Decimal
    price: Decimal  # up to four decimals
    manual_discount: Decimal = ZERO
    volume_discount: Decimal = ZERO  # per unit
    tax: Decimal = ZERO
    kind: str = "write-in"  # "write-in", "existing" or "note"
    taxed: bool = True  # False: the line's tax type is overridden to no tax

    def amount(self, places: int) -> Decimal:
        """What the line contributes before tax: (price - volume discount) x quantity, rounded
        to the currency, less the manual discount."""
        return rounded((self.price - self.volume_discount) * self.quantity, places) - rounded(
            self.manual_discount, places
        )


@dataclass(frozen=True)
class RawInvoice:
    lines: list[RawLine]
    discount_percentage: Decimal = ZERO
    discount_amount: Decimal = ZERO
    freight: Decimal = ZERO
    currency: str = "NZD"
    places: int = 2
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def detail(self) -> Decimal:
        return sum((line.amount(self.places) for line in self.lines), ZERO)

    @property
    def discount(self) -> Decimal:
        share = rounded(self.detail * self.discount_percentage / 100, self.places)
        return share + rounded(self.discount_amount, self.places)

    @property
    def pre_tax(self) -> Decimal:
        """Amount before tax, freight included."""
        return self.detail - self.discount + rounded(self.freight, self.places)

    def total(self, line_taxes: list[Decimal] | None = None) -> Decimal:
        taxes = line_taxes if line_taxes is not None else [line.tax for line in self.lines]
        return self.pre_tax + sum((rounded(t, self.places) for t in taxes), ZERO)


def _money(low: str, high: str, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(Decimal(low), Decimal(high), places=places)


@st.composite
def raw_lines(draw: st.DrawFn) -> RawLine:
    kind = draw(st.sampled_from(["write-in", "write-in", "existing", "note"]))
    if kind == "note":
        return RawLine(ZERO, ZERO, kind="note")
    quantity = draw(
        st.one_of(_money("1", "20", 0), _money("0.25", "12.5", 2), _money("0.001", "3", 3))
    )
    price = draw(st.one_of(_money("0.5", "2500", 2), _money("0.0001", "3000", 4)))
    volume = ZERO
    if kind == "existing":
        volume = draw(
            st.one_of(st.just(ZERO), _money("0", "0.3", 2).map(lambda f: rounded(price * f, 2)))
        )
    gross = rounded((price - volume) * quantity, 2)
    manual = draw(
        st.one_of(st.just(ZERO), _money("0", "1", 2).map(lambda f: rounded(gross * f, 2)))
    )
    taxed = draw(st.booleans())
    tax = rounded((gross - manual) * Decimal("0.15"), 2) if taxed and draw(st.booleans()) else ZERO
    return RawLine(quantity, price, manual, volume, tax, kind, taxed)


@st.composite
def raw_invoices(draw: st.DrawFn) -> RawInvoice:
    lines = draw(st.lists(raw_lines(), min_size=1, max_size=5))
    if all(line.kind == "note" for line in lines):
        lines.append(RawLine(Decimal(1), Decimal(10)))
    detail = sum((line.amount(2) for line in lines), ZERO)
    percentage = draw(st.one_of(st.just(ZERO), _money("0", "30", 2)))
    amount = draw(
        st.one_of(st.just(ZERO), _money("0", "0.2", 2).map(lambda f: rounded(detail * f, 2)))
    )
    freight = draw(st.one_of(st.just(ZERO), _money("0", "150", 2)))
    currency = draw(st.sampled_from(["NZD", "USD", "AUD"]))
    return RawInvoice(lines, percentage, amount, freight, currency)
