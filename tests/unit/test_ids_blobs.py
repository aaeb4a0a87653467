import hashlib

import pytest

from fake_api.core import BlobStore, Clock, Ids, Store, UrlRefused


def make(seed=0):
    store = Store()
    ids = Ids(store, seed)
    return store, ids


def test_same_seed_same_values_and_namespaces_are_independent():
    _, a = make(7)
    _, b = make(7)
    assert [a.hex("x", 8), a.uuid("y"), a.alnum("x", 6)] == [b.hex("x", 8), b.uuid("y"), b.alnum("x", 6)]
    _, c = make(8)
    assert c.hex("x", 8) != make(7)[1].hex("x", 8)
    _, d = make(7)
    d.hex("other")  # drawing from another namespace does not shift "x"
    assert d.hex("x", 8) == make(7)[1].hex("x", 8)


def test_reset_restarts_sequences():
    store, ids = make()
    first = ids.token("t", "oat_", 10)
    store.reset()
    assert ids.token("t", "oat_", 10) == first
    assert first.startswith("oat_") and len(first) == 14


def test_pinned_values_come_first_then_seeded_values_resume():
    _, ids = make()
    ids.pin("build", "fake-build-id", "second")
    assert ids.hex("build") == "fake-build-id"
    assert ids.hex("build") == "second"
    assert len(ids.hex("build")) == 32
    ids.pin("n", 42)
    assert ids.counter("n") == 42


def test_counter_and_fraction():
    _, ids = make()
    assert [ids.counter("n") for _ in range(3)] == [1, 2, 3]
    values = [ids.fraction("f") for _ in range(200)]
    assert all(0 <= v < 1 for v in values) and len(set(values)) == 200


def test_blob_digests_and_snapshot():
    store, ids = make()
    blobs = BlobStore(store, Clock(), ids)
    meta = blobs.put(b"firmware", filename="fw.bin")
    assert meta["size"] == 8
    assert meta["md5"] == hashlib.md5(b"firmware").hexdigest()
    assert meta["sha1"] == hashlib.sha1(b"firmware").hexdigest()
    assert meta["sha256"] == hashlib.sha256(b"firmware").hexdigest()
    assert blobs.data(meta["id"]) == b"firmware"
    snap = store.snapshot()
    store.reset()
    assert blobs.data(meta["id"]) is None
    store.restore(snap)
    assert blobs.data(meta["id"]) == b"firmware"


def test_signed_urls_expire_on_the_clock_and_refuse_forgery():
    store, ids = make()
    clock = Clock()
    blobs = BlobStore(store, clock, ids)
    url = blobs.signed_url("http://h", "/x/1", expires_in=180)
    query = dict(p.split("=") for p in url.split("?")[1].split("&"))
    blobs.verify("/x/1", query)
    with pytest.raises(UrlRefused) as exc:
        blobs.verify("/x/2", query)
    assert exc.value.reason == "forged"
    with pytest.raises(UrlRefused) as exc:
        blobs.verify("/x/1", query, method="PUT")
    assert exc.value.reason == "forged"
    with pytest.raises(UrlRefused) as exc:
        blobs.verify("/x/1", {})
    assert exc.value.reason == "unsigned"
    with pytest.raises(UrlRefused) as exc:
        blobs.verify("/x/1", dict(query, expires="soon"))
    assert exc.value.reason == "forged"
    clock.advance(180)
    blobs.verify("/x/1", query)  # valid up to and including the expiry second
    clock.advance(1)
    with pytest.raises(UrlRefused) as exc:
        blobs.verify("/x/1", query)
    assert exc.value.reason == "expired"
