"""Payment collection behind an interface; the built-in fake provider (the default) "charges"
by recording a reference, understands test card tokens and honours idempotency keys as Stripe
does: the same key gives back the first outcome, never a second charge."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class PaymentMethod:
    brand: str
    last4: str


@dataclass(frozen=True)
class PaymentRequest:
    """What a charge or a credit asks the provider for; `amount` is positive either way."""

    amount: Decimal
    currency: str
    description: str
    idempotency_key: str


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

    async def charge(self, customer_ref: str, request: PaymentRequest) -> str:
        """Collect a payment; returns the provider's reference for it. Asked again with the
        same key, returns the first answer (reference or refusal) and collects nothing more."""
        ...

    async def credit(self, customer_ref: str, request: PaymentRequest) -> str:
        """Give money back to the card; the same key rules as `charge`."""
        ...


# Test tokens, in the manner of card processors' sandboxes.
FAKE_CARDS: dict[str, PaymentMethod | None] = {
    "tok_visa": PaymentMethod("visa", "4242"),
    "tok_mastercard": PaymentMethod("mastercard", "4444"),
    "tok_amex": PaymentMethod("amex", "0005"),
    "tok_declined": None,
    # Attaches, then every charge on it is refused (Stripe's 4000 0000 0000 0341).
    "tok_charge_declined": PaymentMethod("visa", "0341"),
}
_REFUSED_CARD = "0341"


class FakePaymentProvider:
    """Keeps nothing but what it is told; every charge on an accepted card succeeds, except on
    the card that refuses charges."""

    def __init__(self) -> None:
        # (reference, customer, amount, currency): credits with a negative amount.
        self.charges: list[tuple[str, str, Decimal, str]] = []
        self._by_key: dict[str, str | PaymentDeclined] = {}
        self._refusing: set[str] = set()

    async def create_customer(self, *, email: str, name: str) -> str:
        return f"cus_fake_{secrets.token_hex(8)}"

    async def attach_card(self, customer_ref: str, card_token: str) -> PaymentMethod:
        if card_token not in FAKE_CARDS:
            known = ", ".join(sorted(FAKE_CARDS))
            raise PaymentDeclined(f"The card token is not recognised (test tokens: {known}).")
        method = FAKE_CARDS[card_token]
        if method is None:
            raise PaymentDeclined("The card was declined. Use another card.")
        if method.last4 == _REFUSED_CARD:
            self._refusing.add(customer_ref)
        else:
            self._refusing.discard(customer_ref)
        return method

    async def charge(self, customer_ref: str, request: PaymentRequest) -> str:
        return self._once(customer_ref, request, request.amount, prefix="ch")

    async def credit(self, customer_ref: str, request: PaymentRequest) -> str:
        return self._once(customer_ref, request, -request.amount, prefix="cr")

    def _once(
        self, customer_ref: str, request: PaymentRequest, amount: Decimal, *, prefix: str
    ) -> str:
        key = request.idempotency_key
        if key not in self._by_key:
            if amount > 0 and customer_ref in self._refusing:
                self._by_key[key] = PaymentDeclined(
                    "The card was declined (insufficient funds). Update your card."
                )
            else:
                reference = f"{prefix}_fake_{secrets.token_hex(8)}"
                self.charges.append((reference, customer_ref, amount, request.currency))
                self._by_key[key] = reference
        outcome = self._by_key[key]
        if isinstance(outcome, PaymentDeclined):
            raise outcome
        return outcome
