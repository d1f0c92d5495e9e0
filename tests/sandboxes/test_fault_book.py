"""The one meaning of an injected fault, as both sandboxes use it (sandbox_kit.faults)."""

from __future__ import annotations

import pydantic
import pytest
from sandbox_kit.faults import Fault, FaultBook


@pytest.mark.unit
def test_a_fault_matches_method_path_glob_and_organisation() -> None:
    fault = Fault(kind="error", path="*/Invoices", method="put", organisation="Demo")
    assert fault.matches("PUT", "/api.xro/2.0/Invoices", "demo")
    assert not fault.matches("GET", "/api.xro/2.0/Invoices", "demo")
    assert not fault.matches("PUT", "/api.xro/2.0/Invoices/42", "demo"), "the glob is anchored"
    assert not fault.matches("PUT", "/api.xro/2.0/Invoices", "other")
    assert Fault(kind="error").matches("POST", "/connect/token", None), "unset: any call"


@pytest.mark.unit
def test_a_counted_fault_fires_for_the_next_calls_then_is_gone() -> None:
    book: FaultBook[Fault] = FaultBook()
    book.add(Fault(kind="error", path="/a", count=2))
    assert [bool(book.take("GET", "/a", None).faults) for _ in range(3)] == [True, True, False]
    assert book.all() == []


@pytest.mark.unit
def test_a_fault_that_does_not_fire_keeps_its_count() -> None:
    book: FaultBook[Fault] = FaultBook(seed=1)
    never = book.add(Fault(kind="error", probability=0.0, count=1))
    assert book.take("GET", "/a", None).answer is None
    assert book.all() == [never]
    assert never.count == 1


@pytest.mark.unit
def test_latency_adds_up_and_the_first_answering_fault_answers() -> None:
    book: FaultBook[Fault] = FaultBook()
    book.add(Fault(kind="latency", latency_seconds=0.5))
    throttle = book.add(Fault(kind="throttle"))
    book.add(Fault(kind="error"))
    book.add(Fault(kind="latency", latency_seconds=0.25))
    book.add(Fault(kind="revoke_grant"))
    fired = book.take("GET", "/a", None)
    assert fired.latency_seconds == 0.75
    assert fired.answer is throttle
    assert [f.kind for f in book.take("POST", "/a", None, {"revoke_grant"}).faults] == [
        "revoke_grant"
    ]


@pytest.mark.unit
def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError):
        Fault.model_validate({"kind": "error", "path_pattern": "/Invoices$"})
