"""examples/cryptokit against hashlib, hmac and PyJWT, in Python, Node and Chromium.

Every host runs the same seeded sequence of calls on one instance: SHA-256 and
HMAC-SHA256 across the block boundaries (0, 1, 55, 56, 63, 64, 65 bytes) up to
1 MiB, constant-time comparisons, tokens signed here and checked by PyJWT, tokens
signed by PyJWT and checked here, and tokens tampered with, re-keyed, of another
algorithm (``none`` included) or malformed. A strict HS256 verifier written below
says what each verification must answer; PyJWT must agree with it on every token
it accepts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from usecase_helpers import b64, run_node, unb64

import wasmbridge

pytestmark = pytest.mark.toolchain

HERE = Path(__file__).parent
CHECK = HERE / "cryptokit_check.mjs"
SEED = 20261202
SIZES = (0, 1, 55, 56, 63, 64, 65, 4096, 65535, 65536, 65537, 1 << 20)
KEY_SIZES = (0, 1, 31, 32, 63, 64, 65, 100, 1000)
HEADER = b'{"alg":"HS256","typ":"JWT"}'
KEY = b"k" * 32

# FIPS 180-2 appendix B and the NIST CAVP examples: message, SHA-256 (hex).
NIST = [
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ),
    (
        b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
        b"klmnopqrlmnopqrsmnopqrstnopqrstu",
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ),
    (b"a" * 1_000_000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
]

# RFC 4231 test cases 1, 2 and 6 (a key longer than a block): key, data, HMAC-SHA256 (hex).
RFC4231 = [
    (
        b"\x0b" * 20,
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
]

ExamplePkg = Callable[[str], Path]
Call = list[Any]  # [name, *args]: bytes arguments as bytes
Answer = Any  # bytes, str, bool, or ("ok", claims) / ("err", kind)


# -- a strict reference verifier ------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(part: str) -> bytes | None:
    """RFC 7515 base64url: no padding, no stray characters, canonical trailing bits."""
    try:
        data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if b64url(data) == part else None


MAX_DEPTH = 64  # the module refuses JSON nested deeper, as its parser is recursive


def depth(value: Any) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    return 1 + max(map(depth, value), default=0) if isinstance(value, list) else 0


def json_object(data: bytes) -> dict[str, Any] | None:
    """A JSON object nested at most MAX_DEPTH deep, naming ``alg`` at most once."""
    try:
        text = data.decode("utf-8")
        value = json.loads(text)
        pairs = json.loads(text, object_pairs_hook=lambda pairs: pairs)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or depth(value) > MAX_DEPTH:
        return None
    return value if [key for key, _ in pairs].count("alg") <= 1 else None


def reference_sign(claims: str, key: bytes) -> str:
    signing_input = f"{b64url(HEADER)}.{b64url(claims.encode())}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def reference_verify(token: str, key: bytes) -> tuple[str, str]:
    """("ok", claims) or ("err", "malformed token" | "wrong alg" | "bad signature")."""
    parts = token.split(".")
    if len(parts) != 3:
        return ("err", "malformed token")
    header_part, payload_part, signature_part = parts
    header_bytes = unb64url(header_part) if header_part else None
    header = json_object(header_bytes) if header_bytes is not None else None
    if header is None or not isinstance(header.get("alg"), str):
        return ("err", "malformed token")
    if header["alg"] != "HS256":
        return ("err", "wrong alg")
    signature = unb64url(signature_part)
    if signature is None:
        return ("err", "malformed token")
    signing_input = f"{header_part}.{payload_part}".encode()
    if not hmac.compare_digest(hmac.new(key, signing_input, hashlib.sha256).digest(), signature):
        return ("err", "bad signature")
    payload = unb64url(payload_part) if payload_part else None
    if payload is None or json_object(payload) is None:
        return ("err", "malformed token")
    return ("ok", payload.decode())


def pyjwt_decode(token: str, key: bytes) -> dict[str, Any] | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        try:
            return jwt.decode(token, key, algorithms=["HS256"], options={"verify_exp": False})
        except jwt.InvalidTokenError:
            return None


def pyjwt_encode(claims: dict[str, Any], key: bytes, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims, key, algorithm=algorithm)


def reference(call: Call) -> Answer:
    name, *args = call
    if name == "sha256":
        return hashlib.sha256(args[0]).digest()
    if name == "hmac_sha256":
        return hmac.new(args[0], args[1], hashlib.sha256).digest()
    if name == "ct_eq":
        return args[0] == args[1]
    if name == "jwt_sign_hs256":
        return reference_sign(*args)
    return reference_verify(*args)


# -- the seeded sequence --------------------------------------------------------


def random_claims(rng: random.Random) -> dict[str, Any]:
    text = "".join(rng.choice('abcxyz ?/+=."\\é漢🙂\n') for _ in range(rng.randrange(0, 40)))
    claims: dict[str, Any] = {"sub": text, "n": rng.randrange(-(2**40), 2**40)}
    if rng.random() < 0.5:
        claims["roles"] = [rng.choice(["a", "b", None, True, 1.5]) for _ in range(3)]
        claims["nested"] = {"deep": [{"x": [text]}]}
    if rng.random() < 0.2:
        claims["blob"] = "z" * rng.choice((1, 1000, 70_000))
    return claims


def tamper(rng: random.Random, token: str) -> str:
    position = rng.randrange(len(token))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    replacement = rng.choice([c for c in alphabet if c != token[position]])
    return token[:position] + replacement + token[position + 1 :]


def verify_case(rng: random.Random) -> Call:
    key = rng.randbytes(rng.choice((32, 33, 64, 100)))
    claims = random_claims(rng)
    kind = rng.choice(("ours", "pyjwt", "tampered", "wrong key", "HS384", "HS512", "none"))
    if kind in ("HS384", "HS512", "none"):
        token = pyjwt_encode(claims, None if kind == "none" else key, kind)  # type: ignore[arg-type]
    elif kind == "pyjwt":
        token = pyjwt_encode(claims, key)
    else:
        token = reference_sign(json.dumps(claims, separators=(",", ":")), key)
    if kind == "tampered":
        token = tamper(rng, token)
    if kind == "wrong key":
        key = key[:-1] + bytes([key[-1] ^ 1])
    return ["jwt_verify_hs256", token, key]


def sequence(seed: int, length: int, big: int) -> list[Call]:
    """``length`` calls; at most ``big`` of them on 1 MiB."""
    rng = random.Random(seed)
    calls: list[Call] = []
    for size in SIZES:  # every boundary once, in order, then at random
        calls.append(["sha256", rng.randbytes(size)])
    while len(calls) < length:
        size = rng.choice(SIZES[:-1]) if rng.random() < 0.7 else rng.randrange(0, 5000)
        if big and rng.random() < 0.02:
            size, big = 1 << 20, big - 1
        op = rng.choice(("sha256", "hmac_sha256", "ct_eq", "jwt_sign_hs256", "verify"))
        if op == "sha256":
            calls.append(["sha256", rng.randbytes(size)])
        elif op == "hmac_sha256":
            calls.append(["hmac_sha256", rng.randbytes(rng.choice(KEY_SIZES)), rng.randbytes(size)])
        elif op == "ct_eq":
            a = rng.randbytes(rng.choice((0, 1, 32, 64, size)))
            b = bytearray(a)
            if b and rng.random() < 0.5:
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            elif rng.random() < 0.3:
                b += b"\0"
            calls.append(["ct_eq", a, bytes(b)])
        elif op == "jwt_sign_hs256":
            claims = json.dumps(random_claims(rng), ensure_ascii=rng.random() < 0.5)
            # An empty key is refused (test_short_keys_interoperate), so none here.
            key_size = rng.choice([size for size in KEY_SIZES if size])
            calls.append(["jwt_sign_hs256", claims, rng.randbytes(key_size)])
        else:
            calls.append(verify_case(rng))
    return calls


def kind_of(message: str) -> str:
    for kind in ("malformed token", "wrong alg", "bad signature"):
        if message.startswith(kind + ": "):
            return kind
    raise AssertionError(f"an error of no known kind: {message!r}")


def call_python(kit: Any, call: Call) -> Answer:
    name, *args = call
    if name != "jwt_verify_hs256":
        return getattr(kit, name)(*args)
    try:
        return ("ok", kit.jwt_verify_hs256(*args))
    except wasmbridge.ReturnedError as e:
        return ("err", kind_of(e.error))


def to_json(call: Call) -> list[Any]:
    return [b64(arg) if isinstance(arg, bytes) else arg for arg in call]


def from_json(call: Call, answer: Any) -> Answer:
    if call[0] in ("sha256", "hmac_sha256"):
        return unb64(answer)
    if call[0] == "jwt_verify_hs256":
        if "ok" in answer:
            return ("ok", answer["ok"])
        assert answer["name"] == "ReturnedError", answer
        return ("err", kind_of(answer["error"]))
    return answer


def check_answers(calls: list[Call], answer: Callable[[int], Answer]) -> None:
    for i, call in enumerate(calls):
        expected = reference(call)
        got = answer(i)
        assert got == expected, f"call {i}: {call[0]} {summary(call)}: {got!r} != {expected!r}"


def summary(call: Call) -> str:
    return ", ".join(f"{len(a)} bytes" if isinstance(a, bytes) else repr(a)[:80] for a in call[1:])


# -- Python ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def kit(example_pkg: ExamplePkg) -> Any:
    return wasmbridge.load(example_pkg("cryptokit") / "cryptokit.wasm")


def test_nist_sha256_vectors(kit: Any) -> None:
    for message, digest in NIST:
        assert kit.sha256(message).hex() == digest == hashlib.sha256(message).hexdigest()


def test_rfc4231_hmac_vectors(kit: Any) -> None:
    for key, data, mac in RFC4231:
        assert kit.hmac_sha256(key, data).hex() == mac


def test_random_sequence_on_one_instance(kit: Any) -> None:
    calls = sequence(SEED, 600, big=4)
    check_answers(calls, lambda i: call_python(kit, calls[i]))


def test_pyjwt_agrees_with_the_reference(kit: Any) -> None:
    """Every token the sequence verifies that PyJWT accepts, the reference (and so the
    module) accepts with the same claims: only tokens PyJWT rejects differ, and those
    are tampered tokens whose last character changed only the unused low bits."""
    for name, token, key in (c for c in sequence(SEED, 600, big=0) if c[0] == "jwt_verify_hs256"):
        ours = call_python(kit, [name, token, key])
        theirs = pyjwt_decode(token, key)
        if theirs is not None and ours[0] != "ok":
            assert ours == ("err", "malformed token")
            assert unb64url(token.rsplit(".", 1)[1]) is None  # non-canonical base64url
        elif theirs is not None:
            assert json.loads(ours[1]) == theirs
        else:
            assert ours[0] == "err", token


@pytest.mark.parametrize("key_size", [32, 64, 1000])
def test_pyjwt_verifies_our_tokens_and_we_verify_theirs(kit: Any, key_size: int) -> None:
    rng = random.Random(SEED + key_size)
    for _ in range(40):
        key, claims = rng.randbytes(key_size), random_claims(rng)
        ours = kit.jwt_sign_hs256(json.dumps(claims), key)
        assert ours.split(".")[0] == b64url(HEADER)
        assert pyjwt_decode(ours, key) == claims
        theirs = pyjwt_encode(claims, key)
        assert json.loads(kit.jwt_verify_hs256(theirs, key)) == claims


def test_short_keys_interoperate(kit: Any) -> None:
    """PyJWT warns below 32 bytes and refuses an empty key, as cryptokit does (an unset
    secret must not sign or verify); HMAC itself takes any key."""
    for refused in (
        lambda: kit.jwt_sign_hs256("{}", b""),
        lambda: kit.jwt_verify_hs256(kit.jwt_sign_hs256("{}", b"k"), b""),
    ):
        with pytest.raises(wasmbridge.ReturnedError, match="empty key"):
            refused()
    assert kit.hmac_sha256(b"", b"") == hmac.new(b"", b"", hashlib.sha256).digest()
    for size in (1, 16):
        key = bytes(range(size))
        token = kit.jwt_sign_hs256('{"a":1}', key)
        assert pyjwt_decode(token, key) == {"a": 1}
        assert kit.jwt_verify_hs256(pyjwt_encode({"a": 1}, key), key) == '{"a":1}'


def test_every_single_character_change_is_refused(kit: Any) -> None:
    token = kit.jwt_sign_hs256('{"sub":"ada","admin":false}', KEY)
    rng = random.Random(SEED)
    for position in range(len(token)):
        replacement = rng.choice([c for c in "AQgw-_.x" if c != token[position]])
        tampered = token[:position] + replacement + token[position + 1 :]
        with pytest.raises(wasmbridge.ReturnedError):
            kit.jwt_verify_hs256(tampered, KEY)


def none_token(claims: str, header: str = '{"alg":"none","typ":"JWT"}') -> str:
    return f"{b64url(header.encode())}.{b64url(claims.encode())}."


def hs256(header: str, payload: str, key: bytes = KEY) -> str:
    signing_input = f"{b64url(header.encode())}.{b64url(payload.encode())}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


GOOD_HEADER = '{"alg":"HS256","typ":"JWT"}'
# PyJWT accepts these: it has no depth limit and takes padding (RFC 7515 has none).
PYJWT_ACCEPTS = {"too deep", "padded signature"}
REFUSED = [
    # (token, kind, why)
    (none_token('{"admin":true}'), "wrong alg", "alg none"),
    (none_token('{"a":1}', '{"alg":"None"}'), "wrong alg", "alg None"),
    (hs256('{"alg":"none"}', '{"a":1}'), "wrong alg", "alg none, signed anyway"),
    (hs256('{"alg":"HS512"}', '{"a":1}'), "wrong alg", "alg HS512"),
    (hs256('{"alg":"hs256"}', '{"a":1}'), "wrong alg", "alg in lower case"),
    (hs256('{"alg":"RS256"}', '{"a":1}'), "wrong alg", "RS256 with the HMAC key"),
    ("", "malformed token", "empty"),
    ("abc", "malformed token", "one part"),
    ("a.b", "malformed token", "two parts"),
    (hs256(GOOD_HEADER, "{}") + ".x", "malformed token", "four parts"),
    ("..", "malformed token", "three empty parts"),
    ("!!!." + hs256(GOOD_HEADER, "{}").split(".", 1)[1], "malformed token", "header not b64"),
    (hs256("not json", "{}"), "malformed token", "header not JSON"),
    (hs256('["alg","HS256"]', "{}"), "malformed token", "header an array"),
    (hs256('{"typ":"JWT"}', "{}"), "malformed token", "no alg"),
    (hs256('{"alg":256}', "{}"), "malformed token", "alg a number"),
    (hs256('{"alg":"HS256","alg":"none"}', "{}"), "malformed token", "alg twice"),
    (hs256('{"alg":"HS256"} x', "{}"), "malformed token", "text after the header"),
    (hs256(GOOD_HEADER, "not json"), "malformed token", "payload not JSON"),
    (hs256(GOOD_HEADER, "[1,2]"), "malformed token", "payload an array"),
    (hs256(GOOD_HEADER, '{"a":1,}'), "malformed token", "trailing comma"),
    (hs256(GOOD_HEADER, '{"a":' + "[" * 64 + "]" * 64 + "}"), "malformed token", "too deep"),
    (hs256(GOOD_HEADER, ""), "malformed token", "empty payload"),
    (hs256(GOOD_HEADER, "{}")[:-1], "malformed token", "signature cut (not canonical)"),
    (hs256(GOOD_HEADER, "{}")[:-4], "bad signature", "signature 3 bytes short"),
    (hs256(GOOD_HEADER, "{}") + "AAAA", "bad signature", "signature 3 bytes long"),
    (hs256(GOOD_HEADER, "{}") + "=", "malformed token", "padded signature"),
    (" " + hs256(GOOD_HEADER, "{}"), "malformed token", "leading space"),
    (
        hs256(GOOD_HEADER, "{}").replace("-", "+").replace("_", "/") + "+/",
        "malformed token",
        "standard base64 alphabet",
    ),  # fmt: skip
    (hs256(GOOD_HEADER, '{"a":1}', b"other key"), "bad signature", "another key"),
    (hs256(GOOD_HEADER, '{"a":1}', b""), "bad signature", "signed with an empty key"),
    ("é.é.é", "malformed token", "non-ASCII"),
]


@pytest.mark.parametrize(("token", "kind", "why"), REFUSED, ids=[r[2] for r in REFUSED])
def test_refused_tokens_say_why(kit: Any, token: str, kind: str, why: str) -> None:
    assert reference_verify(token, KEY) == ("err", kind)
    assert (pyjwt_decode(token, KEY) is None) == (why not in PYJWT_ACCEPTS)
    with pytest.raises(wasmbridge.ReturnedError) as raised:
        kit.jwt_verify_hs256(token, KEY)
    assert kind_of(raised.value.error) == kind, raised.value.error


def test_accepted_json_edge_cases(kit: Any) -> None:
    deepest = '{"a":' + "[" * 63 + "]" * 63 + "}"
    for payload in [
        deepest,
        '{"a":"\\u00e9\\ud83d\\ude42\\n\\/"}',
        ' {"x" : [1.5e-3, -0, true, null]} ',
        "{}",
    ]:
        token = hs256('{"typ":"JWT", "alg" : "HS\\u0032\\u00356"}', payload)
        assert reference_verify(token, KEY) == ("ok", payload)
        assert kit.jwt_verify_hs256(token, KEY) == payload


def test_ct_eq(kit: Any) -> None:
    rng = random.Random(SEED)
    for size in SIZES[:-1]:
        a = rng.randbytes(size)
        assert kit.ct_eq(a, a) and kit.ct_eq(a, bytes(a))
        assert not kit.ct_eq(a, a + b"\0")
        if a:
            flipped = bytearray(a)
            flipped[rng.randrange(size)] ^= 0x80
            assert not kit.ct_eq(a, bytes(flipped))


# -- Node and Chromium ----------------------------------------------------------


def host_payload() -> tuple[list[Call], dict[str, Any]]:
    calls = sequence(SEED + 1, 250, big=1)
    webcrypto = [b64(c[1]) for c in calls[: len(SIZES)]]
    return calls, {"calls": [to_json(c) for c in calls], "webcrypto": webcrypto}


def check_host(calls: list[Call], result: dict[str, Any]) -> None:
    answers = result["answers"]
    assert len(answers) == len(calls)
    check_answers(calls, lambda i: from_json(calls[i], answers[i]))
    webcrypto = [unb64(d) for d in result["webcrypto"]]
    assert webcrypto == [hashlib.sha256(c[1]).digest() for c in calls[: len(SIZES)]]


@pytest.mark.node
def test_node(example_pkg: ExamplePkg, node_host: None) -> None:
    calls, payload = host_payload()
    check_host(calls, run_node(CHECK, example_pkg("cryptokit"), "cryptokit", payload))


@pytest.mark.browser
def test_chromium(example_pkg: ExamplePkg, chromium: Any) -> None:
    calls, payload = host_payload()
    check_host(calls, chromium.run(CHECK, example_pkg("cryptokit"), "cryptokit", payload))
