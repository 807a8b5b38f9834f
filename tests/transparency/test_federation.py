"""Federation: Montevideo's log imported and verified in another office's store."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obra.access import create_principal
from obra.model.vocab import AccessRole
from obra.registry import federation
from obra.registry.certificates import certificate_bytes, issue_certificate
from obra.registry.federation import FederationError, export_log, import_log
from obra.registry.service import Registry
from obra.transparency.translog import TransparencyLog
from obra.store import Store


class Office:
    """A second registration office with its own store, keys and log."""

    def __init__(self, root, code: str, keys_from=None):
        root.mkdir(parents=True, exist_ok=True)
        if keys_from is not None:
            shutil.copytree(keys_from.store.home / "keys", root / "home" / "keys")
        self.store = Store.open(f"sqlite:///{root / 'obra.db'}", root / "home", office=code, migrate=True)
        self.log = TransparencyLog(self.store)
        self.registry = Registry(self.store, sinks=[self.log])
        self.clerk, _ = create_principal(self.store, "clerk", AccessRole.ADMIN)  # log entry 0: its journal event

    def register(self, *titles: str) -> list[str]:
        return [self.registry.register(self.clerk, "work", {"title": t}).number for t in titles]


@pytest.fixture
def montevideo(tmp_path):
    office = Office(tmp_path / "uymvd", "UYMVD")
    yield office
    office.store.dispose()


def test_a_montevideo_number_verifies_in_another_office(store, montevideo):
    numbers = montevideo.register("La cumparsita", "Adiós Nonino", "Oblivion")
    result = import_log(store, json.dumps(export_log(montevideo.log)))
    assert result.to_dict() | {"root_hash": None} == {"office": "UYMVD", "old_size": 0, "new_size": 4,
                                                       "added": 4, "root_hash": None}
    proof = federation.verify_number(store, numbers[1])
    assert proof["verified"] and proof["office"] == "UYMVD" and proof["entries"][0]["index"] == 2
    offices = {o["office"]: o["size"] for o in federation.imported_offices(store)}
    assert offices["UYMVD"] == 4


def test_a_montevideo_certificate_verifies_with_the_imported_keys(store, montevideo):
    number = montevideo.register("Libertango")[0]
    cert = certificate_bytes(issue_certificate(montevideo.log, montevideo.registry.show(number).record))
    import_log(store, export_log(montevideo.log))
    verified = federation.verify_certificate_here(store, cert)
    assert verified.number == number and verified.office == "UYMVD"


def test_later_imports_extend_the_earlier_one_by_consistency_proof(store, montevideo):
    montevideo.register("A", "B", "C")
    import_log(store, export_log(montevideo.log))
    montevideo.register("D", "E")
    montevideo.log.keys.rotate()
    montevideo.register("F")
    result = import_log(store, export_log(montevideo.log, since=4))
    assert (result.old_size, result.new_size, result.added) == (4, 7, 3)
    assert result.root_hash == TransparencyLog(store, "UYMVD").root().hex()
    # importing the same export again changes nothing
    assert import_log(store, export_log(montevideo.log, since=7)).added == 0


def test_an_altered_entry_is_refused_and_nothing_is_imported(store, montevideo):
    montevideo.register("A", "B")
    export = export_log(montevideo.log)
    export["entries"][1]["record_hash"] = "0" * 64
    with pytest.raises(FederationError, match="not the signed root"):
        import_log(store, export)
    assert TransparencyLog(store, "UYMVD").size() == 0


def test_a_forked_log_is_detected(store, montevideo, tmp_path):
    montevideo.register("A", "B", "C")
    import_log(store, export_log(montevideo.log))
    # the same office key signs a different history
    twin = Office(tmp_path / "twin", "UYMVD", keys_from=montevideo)
    try:
        twin.register("X", "Y", "Z", "W")
        with pytest.raises(FederationError, match="rewritten|forked|not an extension"):
            import_log(store, export_log(twin.log))
        with pytest.raises(FederationError, match="not an extension"):
            import_log(store, export_log(twin.log, since=4))
    finally:
        twin.store.dispose()
    assert TransparencyLog(store, "UYMVD").size() == 4


def test_a_tree_head_with_a_bad_signature_is_refused(store, montevideo):
    montevideo.register("A")
    export = export_log(montevideo.log)
    export["tree_head"]["timestamp"] = "2020-01-01T00:00:00.000000Z"
    with pytest.raises(FederationError, match="tree head"):
        import_log(store, export)


def test_a_rewritten_key_history_is_refused(store, montevideo, tmp_path):
    montevideo.register("A")
    import_log(store, export_log(montevideo.log))
    impostor = Office(tmp_path / "impostor", "UYMVD")
    try:
        impostor.register("A", "B")
        with pytest.raises(FederationError, match="key history was rewritten"):
            import_log(store, export_log(impostor.log))
    finally:
        impostor.store.dispose()


def test_an_office_does_not_import_its_own_log(store, log):
    with pytest.raises(FederationError, match="own office"):
        import_log(store, {**export_log(log), "office": store.office})


@pytest.mark.parametrize("garbage", [b"", b"{}", b"[1]", b'{"format": "obra.log_export/1"}'])
def test_garbage_exports_are_refused(store, garbage):
    with pytest.raises(FederationError):
        import_log(store, garbage)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Montevideo's export of 6 entries (the clerk's journal event, 5 works), from 0 and from 4."""
    root = tmp_path_factory.mktemp("fed-fuzz")
    office = Office(root / "uymvd", "UYMVD")
    office.register("A", "B", "C")
    first = export_log(office.log)
    office.register("D", "E")
    full, tail = export_log(office.log), export_log(office.log, since=4)
    office.store.dispose()
    return first, full, tail, root


JSON = st.recursive(st.none() | st.booleans() | st.integers(-5, 10) | st.text(max_size=6),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                max_size=3), max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_mutated_export_never_imports(exported, data):
    first, full, tail, root = exported
    target = Store.open(f"sqlite:///{root / 'target.db'}", root / "target-home", office="ESMAD", migrate=True)
    try:
        log = TransparencyLog(target, "UYMVD")
        if log.size() == 0:
            import_log(target, first)
        export = json.loads(json.dumps(data.draw(st.sampled_from([full, tail]))))
        where = data.draw(st.sampled_from(["entry", "tree_head", "consistency_proof", "since"]))
        if where == "entry":
            leaf = export["entries"][data.draw(st.integers(0, len(export["entries"]) - 1))]
            name = data.draw(st.sampled_from(sorted(leaf)))
            leaf[name] = data.draw(JSON.filter(lambda v: v != leaf[name]))
        elif where == "tree_head":
            name = data.draw(st.sampled_from(sorted(export["tree_head"])))
            export["tree_head"][name] = data.draw(JSON.filter(lambda v: v != export["tree_head"][name]))
        elif where == "consistency_proof":
            export["consistency_proof"] = data.draw(
                st.lists(st.text("0123456789abcdef", min_size=64, max_size=64), max_size=4)
                .filter(lambda v: v != export["consistency_proof"]))
        else:
            export["since"] = data.draw(st.integers(-2, 8).filter(lambda v: v != export["since"]))
        with pytest.raises(FederationError):
            import_log(target, export)
        assert log.size() == 4
    finally:
        target.dispose()
