from customers.models import CustomerIn, CustomerPatch
from customers.repository import InMemoryCustomerRepository


def test_add_then_get_returns_the_stored_item() -> None:
    store = InMemoryCustomerRepository()
    item = store.add(CustomerIn(name="first"))
    assert store.get(item.id) == item
    assert item.created_at == item.updated_at


def test_pages_follow_the_cursor_to_the_end() -> None:
    store = InMemoryCustomerRepository()
    ids = [store.add(CustomerIn(name=f"n{i}")).id for i in range(5)]
    first = store.page(limit=2)
    second = store.page(limit=2, cursor=first.next_cursor)
    last = store.page(limit=2, cursor=second.next_cursor)
    assert [i.id for i in first.items + second.items + last.items] == ids
    assert last.next_cursor is None


def test_update_changes_only_the_given_fields() -> None:
    store = InMemoryCustomerRepository()
    item = store.add(CustomerIn(name="before", description="kept"))
    updated = store.update(item.id, CustomerPatch(name="after"))
    assert updated is not None
    assert (updated.name, updated.description) == ("after", "kept")
    assert updated.updated_at >= item.updated_at
    assert store.update("missing", CustomerPatch(name="x")) is None


def test_remove_reports_whether_the_item_existed() -> None:
    store = InMemoryCustomerRepository()
    item = store.add(CustomerIn(name="gone"))
    assert store.remove(item.id) is True
    assert store.remove(item.id) is False
    assert store.get(item.id) is None
