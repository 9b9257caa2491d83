"""Tests for bot.callbacks: signed callback data in at most 64 bytes."""

from __future__ import annotations

import pytest

from bot.callbacks import MAX_BYTES, Callback, CallbackCodec

SECRET = "test-secret"


@pytest.fixture
def codec() -> CallbackCodec:
    return CallbackCodec(SECRET)


def test_round_trip(codec: CallbackCodec) -> None:
    data = codec.encode("dispose", 1234, 7)
    cb = codec.decode(data)
    assert cb == Callback("dispose", ("1234", "7"))
    assert cb.int(0) == 1234
    assert cb.int(1) == 7


def test_round_trip_without_args(codec: CallbackCodec) -> None:
    assert codec.decode(codec.encode("menu")) == Callback("menu", ())


def test_round_trip_with_string_and_empty_args(codec: CallbackCodec) -> None:
    assert codec.decode(codec.encode("ret", 5, "contact_email", "")) == Callback(
        "ret", ("5", "contact_email", ""))


def test_format_is_body_then_short_signature(codec: CallbackCodec) -> None:
    data = codec.encode("assign", 3, 9, 42)
    body, _, sig = data.rpartition(":")
    assert body == "assign:3:9:42"
    assert len(sig) == 8
    assert set(sig) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_encoding_is_deterministic_and_shared_by_same_secret(codec: CallbackCodec) -> None:
    other = CallbackCodec(SECRET)
    assert codec.encode("dispose", 1, 2) == other.encode("dispose", 1, 2)
    assert other.decode(codec.encode("dispose", 1, 2)) == Callback("dispose", ("1", "2"))


def test_encode_accepts_exactly_64_bytes(codec: CallbackCodec) -> None:
    data = codec.encode("a" * (MAX_BYTES - 9))  # ":" + 8 signature characters
    assert len(data.encode()) == MAX_BYTES == 64
    assert codec.decode(data) == Callback("a" * 55, ())


def test_encode_rejects_65_bytes(codec: CallbackCodec) -> None:
    with pytest.raises(ValueError):
        codec.encode("a" * (MAX_BYTES - 8))


def test_encode_limit_counts_bytes_not_characters(codec: CallbackCodec) -> None:
    # 28 characters, but 56 bytes in UTF-8: 56 + 9 = 65 bytes.
    with pytest.raises(ValueError):
        codec.encode("é" * 28)


def test_encode_rejects_long_args(codec: CallbackCodec) -> None:
    with pytest.raises(ValueError):
        codec.encode("dispose", 10**30, 10**30)


@pytest.mark.parametrize("action,args", [("dis:pose", ()), ("dispose", ("1:2",)),
                                         ("dispose", (1, "a:")), (":", ())])
def test_colon_is_reserved(codec: CallbackCodec, action: str, args: tuple) -> None:
    with pytest.raises(ValueError):
        codec.encode(action, *args)


def test_tampered_action_is_rejected(codec: CallbackCodec) -> None:
    data = codec.encode("dispose", 12, 3)
    assert codec.decode(data.replace("dispose", "complete", 1)) is None


def test_tampered_argument_is_rejected(codec: CallbackCodec) -> None:
    data = codec.encode("dispose", 12, 3)
    assert codec.decode(data.replace(":12:", ":13:", 1)) is None
    assert codec.decode(data.replace(":3:", ":4:", 1)) is None


def test_added_argument_is_rejected(codec: CallbackCodec) -> None:
    body, _, sig = codec.encode("dispose", 12, 3).rpartition(":")
    assert codec.decode(f"{body}:99:{sig}") is None


def test_wrong_signature_is_rejected(codec: CallbackCodec) -> None:
    data = codec.encode("dispose", 12, 3)
    body, _, sig = data.rpartition(":")
    flipped = ("B" if sig[0] == "A" else "A") + sig[1:]
    assert codec.decode(f"{body}:{flipped}") is None
    assert codec.decode(f"{body}:{sig[:-1]}") is None
    assert codec.decode(f"{body}:{sig}x") is None
    assert codec.decode(f"{body}:") is None
    assert codec.decode(body) is None


def test_signature_from_another_secret_is_rejected(codec: CallbackCodec) -> None:
    foreign = CallbackCodec("another-secret").encode("dispose", 12, 3)
    assert codec.decode(foreign) is None
    assert CallbackCodec("another-secret").decode(codec.encode("dispose", 12, 3)) is None


@pytest.mark.parametrize("data", [None, "", ":", "::", "dispose", "dispose:12:3",
                                  ":AAAAAAAA", "a:b:c:d:e:f", "x" * 64])
def test_malformed_data_is_rejected(codec: CallbackCodec, data: str | None) -> None:
    assert codec.decode(data) is None


def test_non_ascii_garbage_is_rejected_not_raised(codec: CallbackCodec) -> None:
    # Callback data comes from the client; a non-ASCII "signature" must not crash decode.
    assert codec.decode("dispose:12:3:é") is None
    assert codec.decode("dispose:12:3:éééééééé") is None


def test_data_longer_than_64_bytes_is_rejected_even_if_signed(codec: CallbackCodec) -> None:
    body = "a" * 60
    data = f"{body}:{codec._sig(body)}"  # correctly signed, but too long for Telegram
    assert len(data.encode()) > MAX_BYTES
    assert codec.decode(data) is None
    assert codec.decode("x" * 65) is None
