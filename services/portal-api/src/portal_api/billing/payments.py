"""Payment collection behind an interface; the built-in fake provider (the default) "charges"
by recording a reference, and understands test card tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class PaymentMethod:
    brand: str
    last4: str


class PaymentDeclined(Exception):
    """The provider refused the card or the charge; `message` says why, for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PaymentProvider(Protocol):
    async def create_customer(self, *, email: str, name: str) -> str:
        """A customer reference at the provider."""
        ...

    async def attach_card(self, customer_ref: str, card_token: str) -> PaymentMethod: ...

    async def charge(
        self, customer_ref: str, *, amount: Decimal, currency: str, description: str
    ) -> str:
        """Collect a payment; returns the provider's reference for it."""
        ...


# Test tokens, in the manner of card processors' sandboxes.
FAKE_CARDS: dict[str, PaymentMethod | None] = {
    "tok_visa": PaymentMethod("visa", "4242"),
    "tok_mastercard": PaymentMethod("mastercard", "4444"),
    "tok_amex": PaymentMethod("amex", "0005"),
    "tok_declined": None,
}


class FakePaymentProvider:
    """Keeps nothing but what it is told; every charge on an accepted card succeeds."""

    def __init__(self) -> None:
        self.charges: list[tuple[str, str, Decimal, str]] = []

    async def create_customer(self, *, email: str, name: str) -> str:
        return f"cus_fake_{secrets.token_hex(8)}"

    async def attach_card(self, customer_ref: str, card_token: str) -> PaymentMethod:
        if card_token not in FAKE_CARDS:
            known = ", ".join(sorted(FAKE_CARDS))
            raise PaymentDeclined(f"The card token is not recognised (test tokens: {known}).")
        method = FAKE_CARDS[card_token]
        if method is None:
            raise PaymentDeclined("The card was declined. Use another card.")
        return method

    async def charge(
        self, customer_ref: str, *, amount: Decimal, currency: str, description: str
    ) -> str:
        reference = f"ch_fake_{secrets.token_hex(8)}"
        self.charges.append((reference, customer_ref, amount, currency))
        return reference
