"""Key-value stores (SQLite and a real Redis) against a dict model, under
concurrency, and isolated by app and store."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from services_helpers import MakeApp, route

from redis_helpers import RedisServer
from wasmbridge.errors import WasmbridgeError
from wasmbridge.serve.config import KvStoreConfig
from wasmbridge.serve.services import KeyValueStore, StoreError, StoreSet, open_store
from wasmbridge.serve.services.kv import default_sqlite_path

KEYS = ["a", "ab", "abc", "b", "b*", "b?", "b[1]", "é", "é\u0000x", "k\\", "", "zz:zz"]
VALUES = [b"", b"0", b"7", b"-12", b"x", b"\x00\xff", b"42", b"007", b"1" * 20]


class Model:
    """What a store should do, in plain Python."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def increment(self, key: str, delta: int) -> int | str:
        value = self.data.get(key, b"0")
        if not (
            value == b"0"
            or (
                value.lstrip(b"-")[:1] not in (b"0", b"")
                and value.lstrip(b"-").isdigit()
                and value.count(b"-") <= 1
                and not value.endswith(b"-")
            )
        ):
            return "error"
        total = int(value) + delta
        if not -(2**63) <= total < 2**63 or not -(2**63) <= int(value) < 2**63:
            return "error"
        self.data[key] = str(total).encode()
        return total

    def cas(self, key: str, expected: bytes | None, new: bytes) -> bool:
        if self.data.get(key) != expected:
            return False
        self.data[key] = new
        return True


def run_ops(store: KeyValueStore, seed: int, count: int) -> int:
    """``count`` random operations on ``store`` and the model, compared one by one."""
    rng = random.Random(seed)
    model = Model()
    for step in range(count):
        op = rng.choice(["get", "set", "delete", "exists", "keys", "inc", "cas", "cas_none"])
        key = rng.choice(KEYS)
        where = f"step {step}: {op} {key!r}"
        if op == "get":
            assert store.get(key) == model.data.get(key), where
        elif op == "set":
            value = rng.choice(VALUES)
            store.set(key, value)
            model.data[key] = value
        elif op == "delete":
            assert store.delete(key) == (model.data.pop(key, None) is not None), where
        elif op == "exists":
            assert store.exists(key) == (key in model.data), where
        elif op == "keys":
            prefix = rng.choice(["", "a", "b", "b*", "é", "z", "k\\", "nope"])
            expected = sorted(k for k in model.data if k.startswith(prefix))
            assert store.keys(prefix) == expected, f"{where} prefix {prefix!r}"
        elif op == "inc":
            delta = rng.choice([1, -1, 5, 2**62, -(2**62), 0])
            want = model.increment(key, delta)
            if want == "error":
                with pytest.raises(StoreError, match="increment of key"):
                    store.increment(key, delta)
            else:
                assert store.increment(key, delta) == want, where
        else:
            expected = None if op == "cas_none" else rng.choice([*VALUES, model.data.get(key)])
            new = rng.choice(VALUES)
            assert store.compare_and_swap(key, expected, new) == model.cas(key, expected, new), (
                where
            )
    assert store.keys("") == sorted(model.data)
    for key in KEYS:
        assert store.get(key) == model.data.get(key)
    return count


def test_random_operations_match_a_dict_model(kv_store: KeyValueStore) -> None:
    assert run_ops(kv_store, seed=20261202, count=3000) == 3000


def test_increment_stores_decimal_text_and_refuses_other_values(kv_store: KeyValueStore) -> None:
    assert kv_store.increment("n", 41) == 41
    assert kv_store.increment("n", 1) == 42
    assert kv_store.get("n") == b"42"
    assert kv_store.increment("neg", -5) == -5
    kv_store.set("text", b"forty-two")
    with pytest.raises(
        StoreError,
        match=r"increment of key 'text' in key-value store 'default' of app 'shop' \(.*\): the stored value b'forty-two' is not a 64-bit decimal integer",
    ) as caught:
        kv_store.increment("text", 1)
    assert isinstance(caught.value, WasmbridgeError)
    assert caught.value.hint is not None and "decimal text" in caught.value.hint
    assert kv_store.get("text") == b"forty-two"
    kv_store.set("big", str(2**63 - 1).encode())
    with pytest.raises(StoreError, match="overflows a 64-bit integer|not a 64-bit decimal"):
        kv_store.increment("big", 1)
    assert kv_store.get("big") == str(2**63 - 1).encode()


def test_compare_and_swap_semantics(kv_store: KeyValueStore) -> None:
    assert kv_store.compare_and_swap("k", None, b"1") is True  # absent -> created
    assert kv_store.compare_and_swap("k", None, b"2") is False  # present now
    assert kv_store.compare_and_swap("k", b"2", b"3") is False  # wrong value
    assert kv_store.get("k") == b"1"
    assert kv_store.compare_and_swap("k", b"1", b"") is True
    assert kv_store.get("k") == b""  # an empty value is a value, not absence
    assert kv_store.compare_and_swap("k", None, b"x") is False
    assert kv_store.compare_and_swap("k", b"", b"x") is True
    assert kv_store.compare_and_swap("gone", b"", b"x") is False
    assert kv_store.exists("gone") is False


def test_threads_incrementing_one_key_lose_no_update(kv_store: KeyValueStore) -> None:
    threads, rounds = 4, 150

    def work() -> None:
        for _ in range(rounds):
            kv_store.increment("hits", 1)
            while True:  # a CAS loop is atomic too
                current = kv_store.get("cas")
                new = str(int(current or b"0") + 1).encode()
                if kv_store.compare_and_swap("cas", current, new):
                    break

    running = [threading.Thread(target=work) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    assert kv_store.get("hits") == str(threads * rounds).encode()
    assert kv_store.get("cas") == str(threads * rounds).encode()


def test_threads_opening_a_new_sqlite_file_at_once_all_get_in(
    make_app: MakeApp, tmp_path: Path
) -> None:
    """Switching a new file to WAL does not wait for a lock as statements do: threads
    whose first use of the store came together got "database is locked"."""
    for index in range(60):
        config = KvStoreConfig("default", "sqlite", path=tmp_path / f"kv{index}.sqlite")
        store = open_store(make_app(kv=(config,)), config)
        failed: list[BaseException] = []

        def work(store: KeyValueStore = store, failed: list[BaseException] = failed) -> None:
            try:
                for _ in range(20):
                    store.increment("hits", 1)
            except BaseException as exc:  # noqa: BLE001 - reported by the assert below
                failed.append(exc)

        running = [threading.Thread(target=work) for _ in range(8)]
        for thread in running:
            thread.start()
        for thread in running:
            thread.join()
        assert failed == [] and store.get("hits") == b"160", failed[:1]
        store.close()


PROCESS_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from wasmbridge.serve.config import AppConfig, KvStoreConfig
    from wasmbridge.serve.services import open_store

    backend, where, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if backend == "redis":
        config = KvStoreConfig("default", backend="redis", url=where)
    else:
        config = KvStoreConfig("default", path=Path(where))
    app = AppConfig(name="shop", manifest=Path("/nonexistent/wasmbridge.toml"), routes=(), kv=(config,))
    store = open_store(app, config)
    for _ in range(rounds):
        store.increment("hits", 1)
    store.close()
    """
)


def test_two_processes_incrementing_one_key_count_exactly(
    kv_store: KeyValueStore, store_config: KvStoreConfig
) -> None:
    rounds = 300
    where = store_config.url if store_config.backend == "redis" else str(store_config.path)
    assert where is not None
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", PROCESS_SCRIPT, store_config.backend, where, str(rounds)]
        )
        for _ in range(2)
    ]
    for _ in range(rounds):  # and this process too
        kv_store.increment("hits", 1)
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    assert kv_store.get("hits") == str(3 * rounds).encode()


def test_stores_are_isolated_by_app_and_store_name(
    store_config: KvStoreConfig, make_app: MakeApp
) -> None:
    configs = [
        KvStoreConfig(name, store_config.backend, store_config.path, store_config.url)
        for name in ("default", "other")
    ]
    opened = {
        (app, config.name): open_store(make_app(app, kv=tuple(configs)), config)
        for app in ("shop", "blog")
        for config in configs
    }
    try:
        for (app, name), store in opened.items():
            store.set("key", f"{app}/{name}".encode())
            store.increment("n", 1)
        for (app, name), store in opened.items():
            assert store.get("key") == f"{app}/{name}".encode()
            assert store.keys("") == ["key", "n"]
            assert store.get("n") == b"1"
        opened[("shop", "default")].delete("key")
        assert opened[("shop", "other")].get("key") == b"shop/other"
        assert opened[("blog", "default")].get("key") == b"blog/default"
    finally:
        for store in opened.values():
            store.close()


def test_store_set_opens_each_store_once_and_only_for_listed_routes(
    make_app: MakeApp, tmp_path: Path
) -> None:
    shared = route("/a", key_value_stores=("default", "carts"))
    lonely = route("/b", key_value_stores=())
    app = make_app(
        routes=(shared, lonely), kv=(KvStoreConfig("carts", path=tmp_path / "carts.sqlite"),)
    )
    stores = StoreSet(app)
    try:
        opened: list[KeyValueStore | None] = []
        threads = [
            threading.Thread(target=lambda: opened.append(stores.for_route(shared, "carts")))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        carts = opened[0]
        assert len({id(store) for store in opened}) == 1 and carts is not None
        carts.set("c", b"1")
        assert stores.for_route(lonely, "carts") is None
        assert stores.for_route(shared, "sessions") is None
        default = stores.for_route(shared, "default")
        assert default is not None
        default.set("k", b"v")
        assert default_sqlite_path(app) == tmp_path / ".wasmbridge" / "kv.sqlite"
        assert default_sqlite_path(app).is_file()
        assert (tmp_path / "carts.sqlite").is_file()
    finally:
        stores.close()
    with pytest.raises(StoreError, match="are closed"):
        stores.open("default")


@pytest.mark.redis
def test_redis_keys_escape_glob_characters_in_names(
    redis_srv: RedisServer, make_app: MakeApp
) -> None:
    tricky = KvStoreConfig("st*re", backend="redis", url=redis_srv.url_for(3))
    plain = KvStoreConfig("stXre", backend="redis", url=redis_srv.url_for(3))
    app = make_app("a[pp]?", kv=(tricky, plain))
    first, second = open_store(app, tricky), open_store(app, plain)
    try:
        first.set("k*1", b"1")
        second.set("k*1", b"2")
        second.set("kk", b"2")
        assert first.keys("") == ["k*1"]
        assert first.keys("k*") == ["k*1"]
        assert second.keys("k*") == ["k*1"]
        assert second.keys("k") == ["k*1", "kk"]
    finally:
        first.close()
        second.close()


@pytest.mark.redis
def test_redis_down_is_a_store_error_naming_the_store(make_app: MakeApp) -> None:
    from services_helpers import unused_port

    url = f"redis://:secret@127.0.0.1:{unused_port()}/0"
    config = KvStoreConfig("default", backend="redis", url=url)
    store = open_store(make_app(kv=(config,)), config)
    with pytest.raises(
        StoreError,
        match=r"key-value store 'default' of app 'shop' \(Redis redis://:\*\*\*@127\.0\.0\.1:\d+/0\) is unreachable: ",
    ) as caught:
        store.get("k")
    assert "secret" not in str(caught.value)
    assert caught.value.hint is not None and "start the Redis server" in caught.value.hint
    store.close()


def test_redis_store_without_url_says_what_to_write(make_app: MakeApp) -> None:
    config = KvStoreConfig("cache", backend="redis")
    with pytest.raises(
        StoreError, match="key-value store 'cache' of app 'shop' uses Redis but has no url"
    ) as caught:
        open_store(make_app(kv=(config,)), config)
    assert caught.value.hint == 'set url = "redis://127.0.0.1:6379/0" in [kv.cache]'


def test_an_unwritable_sqlite_folder_is_a_store_error(make_app: MakeApp, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    config = KvStoreConfig("default", path=blocker / "kv.sqlite")
    store = open_store(make_app(kv=(config,)), config)
    with pytest.raises(
        StoreError,
        match=rf"key-value store 'default' of app 'shop' \(SQLite {blocker}/kv.sqlite\) failed: ",
    ) as caught:
        store.set("k", b"v")
    assert caught.value.hint is not None and "[kv.default]" in caught.value.hint
    store.close()
