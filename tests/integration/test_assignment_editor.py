"""The assignment editor's Save is one transaction (issue 11): `set_assigned_packs`."""

from __future__ import annotations

import pytest

from quotadesk.services import catalog, clients
from quotadesk.services.errors import AddonsDisabled, NotFound


@pytest.fixture
def acme(desk, clock):
    catalog.add_plan(desk, name="Voice", fee="10.00", included={"minutes": "100"})
    for name in ("A", "B", "C", "Old"):
        catalog.add_pack(desk, name=name, resource="minutes", units="10", price="1.00")
    client = clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client=client.id, plan="Voice")
    clients.assign_packs(desk, client=client.id, packs=["A", "B", "Old"])
    return client.id


def assigned(desk, client_id):
    return sorted(p.name for p in clients.client_detail(desk, client_id).assigned_packs)


def test_save_adds_and_removes_in_one_go(desk, acme):
    added, removed = clients.set_assigned_packs(desk, client=acme, packs=["B", "C"])
    assert [p.name for p in added] == ["C"]
    assert sorted(p.name for p in removed) == ["A", "Old"]
    assert assigned(desk, acme) == ["B", "C"]
    # Saving the same selection again changes nothing.
    assert clients.set_assigned_packs(desk, client=acme, packs=["C", "B"]) == ([], [])


def test_a_refusal_leaves_every_assignment_as_it_was(desk, acme):
    with pytest.raises(NotFound) as refused:
        clients.set_assigned_packs(desk, client=acme, packs=["C", "no such pack"])
    assert "no such pack" in refused.value.message
    assert assigned(desk, acme) == ["A", "B", "Old"]  # not one removed, not one added


def test_removing_needs_no_add_ons_but_adding_does(desk, acme):
    catalog.edit_plan(desk, plan="Voice", addons=False)
    clients.subscribe(desk, client=acme, plan="Voice")  # a fresh snapshot: add-ons off
    with pytest.raises(AddonsDisabled):
        clients.set_assigned_packs(desk, client=acme, packs=["A", "C"])
    assert assigned(desk, acme) == ["A", "B", "Old"]
    clients.set_assigned_packs(desk, client=acme, packs=["A"])
    assert assigned(desk, acme) == ["A"]
