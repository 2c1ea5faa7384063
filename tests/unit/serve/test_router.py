"""The router: exact, :param and /... routes, the most specific one winning."""

from __future__ import annotations

import random
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasmbridge.serve.router import Router, check_pattern

ROUTES = [
    ("/...", "site"),
    ("/api/...", "api"),
    ("/api/cart/...", "cart"),
    ("/api/cart/special", "special"),
    ("/items/:id", "item"),
    ("/items/:id/reviews/:review", "review"),
    ("/items/:id/reviews/latest", "latest"),
    ("/", "root"),
]


@pytest.fixture
def router() -> Router[str]:
    return Router(ROUTES)


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/", "root"),
        ("/index.html", "site"),
        ("/api", "api"),
        ("/api/", "api"),
        ("/api/users", "api"),
        ("/apix", "site"),
        ("/api/cart", "cart"),
        ("/api/cart/3", "cart"),
        ("/api/cart/special", "special"),
        ("/api/cart/special/more", "cart"),
        ("/items/7", "item"),
        ("/items/", "site"),
        ("/items/7/reviews/2", "review"),
        ("/items/7/reviews/latest", "latest"),
        ("/items/7/extra", "site"),
    ],
)
def test_the_most_specific_route_wins(router: Router[str], path: str, target: str) -> None:
    found = router.match(path)
    assert found is not None
    assert found.target == target


def test_exact_beats_params_and_prefix_whatever_the_order() -> None:
    for routes in (ROUTES, list(reversed(ROUTES))):
        found = Router(routes).match("/api/cart/special")
        assert found is not None and found.target == "special"


def test_params_are_named_and_decoded(router: Router[str]) -> None:
    found = router.match("/items/a%20b/reviews/9")
    assert found is not None
    assert found.params == (("id", "a b"), ("review", "9"))
    assert found.pattern == "/items/:id/reviews/:review"


def test_prefix_match_gives_script_name_and_path_info_as_wagi_sets_them(
    router: Router[str],
) -> None:
    found = router.match("/api/cart/3/x")
    assert found is not None
    assert (found.pattern, found.script_name, found.path_info) == (
        "/api/cart/...",
        "/api/cart",
        "/3/x",
    )
    whole = Router([("/...", "all")]).match("/")
    assert whole is not None
    assert (whole.script_name, whole.path_info) == ("/", "/")


def test_exact_match_has_empty_path_info(router: Router[str]) -> None:
    found = router.match("/api/cart/special")
    assert found is not None
    assert (found.script_name, found.path_info) == ("/api/cart/special", "")


def test_no_route_is_none() -> None:
    assert Router([("/a", 1)]).match("/b") is None
    assert Router([("/a/...", 1)]).match("/ab") is None


def test_trailing_slash_is_a_different_exact_path() -> None:
    router = Router([("/foo", 1), ("/foo/", 2)])
    assert [router.match(p).target for p in ("/foo", "/foo/")] == [1, 2]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("api", "route 'api' must start with '/'"),
        ("/a/.../b", "route '/a/.../b': '...' may only end a route, as '/...'"),
        ("/a/:", "route '/a/:': parameter ':' needs a name (':id')"),
        ("/a/:x/:x", "route '/a/:x/:x': parameter ':x' appears twice"),
    ],
)
def test_bad_patterns_are_refused_with_a_reason(pattern: str, problem: str) -> None:
    assert check_pattern(pattern) == problem
    with pytest.raises(
        ValueError, match=problem.replace(".", r"\.").replace("(", r"\(").replace(")", r"\)")
    ):
        Router([(pattern, 1)])


segment = st.text(alphabet="abcxyz09-_.", min_size=1, max_size=6).filter(
    lambda s: s != "." and ".." not in s
)
paths = st.lists(segment, max_size=5).map(lambda parts: "/" + "/".join(parts))


@given(paths)
def test_an_exact_route_matches_itself_and_beats_everything(path: str) -> None:
    router = Router([("/...", "all"), (path, "exact")])
    found = router.match(path)
    assert found is not None and found.target == "exact"


@given(paths, paths)
def test_prefix_routes_match_exactly_their_subtree(prefix: str, path: str) -> None:
    pattern = prefix.rstrip("/") + "/..."
    found = Router([(pattern, "p")]).match(path)
    base = prefix.rstrip("/")
    inside = base == "" or path == base or path.startswith(base + "/")
    assert (found is not None) == inside
    if found is not None:
        assert found.script_name == (base or "/")
        assert base + found.path_info == path


@given(st.lists(segment, min_size=1, max_size=4))
def test_a_param_route_captures_every_segment(parts: list[str]) -> None:
    pattern = "/" + "/".join(f":p{i}" for i in range(len(parts)))
    found = Router([(pattern, "x")]).match("/" + "/".join(parts))
    assert found is not None
    assert [value for _, value in found.params] == parts


def test_a_prefix_may_hold_params() -> None:
    router = Router([("/users/:id/...", "user"), ("/users/:id/files/...", "files")])
    found = router.match("/users/42/files/a/b")
    assert found is not None
    assert (found.target, found.params, found.script_name, found.path_info) == (
        "files",
        (("id", "42"),),
        "/users/42/files",
        "/a/b",
    )
    found = router.match("/users/7")
    assert found is not None and (found.target, found.path_info) == ("user", "")


def test_a_path_matched_again_gets_the_same_answer_from_the_cache(router: Router[str]) -> None:
    first = router.match("/items/a%20b/reviews/9")
    assert router.match("/items/a%20b/reviews/9") is first
    assert router.match("/nowhere/at/all") == router.match("/nowhere/at/all")
    assert Router([("/x", "x")]).match("/y") is None
    assert Router([("/x", "x")]).match("/y") is None  # a miss is cached as a miss


def test_the_cache_holds_bounded_short_paths_and_answers_stay_right() -> None:
    from wasmbridge.serve import router as router_module

    routes = Router([("/items/:id", "item"), ("/...", "site")])
    long_path = "/items/" + "x" * (router_module.CACHED_PATH_CHARS + 1)
    for _ in range(2):
        found = routes.match(long_path)
        assert found is not None and found.target == "item"
    assert long_path not in routes._cache
    for n in range(router_module.CACHED_PATHS * 2 + 7):
        found = routes.match(f"/items/{n}")
        assert found is not None and found.params == (("id", str(n)),)
        assert len(routes._cache) <= router_module.CACHED_PATHS


def test_a_literal_beats_a_parameter_at_the_first_place_two_routes_differ() -> None:
    routes = [("/a/:x/b", "x-first"), ("/a/c/:y", "c-first")]
    for order in (routes, routes[::-1]):
        router = Router(order)
        assert router.match("/a/c/b").target == "c-first"  # type: ignore[union-attr]
        assert router.match("/a/d/b").target == "x-first"  # type: ignore[union-attr]
    prefixes = [("/p/:x/q/...", "x"), ("/p/c/:y/...", "c")]
    for order in (prefixes, prefixes[::-1]):
        assert Router(order).match("/p/c/q/z").target == "c"  # type: ignore[union-attr]


@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", ":p"]), min_size=1, max_size=4),
        min_size=1,
        max_size=12,
        unique_by=lambda s: tuple("" if x.startswith(":") else x for x in s),
    ),
    st.randoms(use_true_random=False),
)
def test_the_winner_never_depends_on_the_manifest_order(
    shapes: list[list[str]], rng: random.Random
) -> None:
    routes = []
    for index, segments in enumerate(shapes):
        named = [f":p{i}" if s == ":p" else s for i, s in enumerate(segments)]
        suffix = "/..." if index % 3 == 0 else ""
        routes.append(("/" + "/".join(named) + suffix, index))
    shuffled = routes[:]
    rng.shuffle(shuffled)
    first, second = Router(routes), Router(shuffled)
    for path in ("/" + "/".join(p) for n in range(1, 6) for p in product("ab", repeat=n)):
        one, two = first.match(path), second.match(path)
        assert (one and one.target) == (two and two.target), path
