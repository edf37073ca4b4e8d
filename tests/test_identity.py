"""Student keys keep a name's identity: NFC, nothing stripped, two names never one key."""

import unicodedata

from hypothesis import given, strategies as st

from autograder.gradebook.export import safe_name
from autograder.identity import MAX_KEY_BYTES, is_safe_component, is_shortened, student_key


def test_plain_ascii_keys_are_unchanged():
    for name in ("alice", "4711", "bob.smith", "b-ob_2@uni.edu"):
        assert student_key(name) == name


def test_names_differing_only_in_non_ascii_letters_keep_apart():
    names = ["José", "Josø", "Josè", "Jos_", "Jos", "李雷", "李雪", "Дмитрий", "Дмитрии"]
    keys = [student_key(n) for n in names]
    assert len(set(keys)) == len(names)
    assert student_key("José") == "José"  # kept as it is, readable


def test_nfc_forms_of_one_name_share_a_key_and_escapes_are_reversible():
    assert student_key(unicodedata.normalize("NFD", "José")) == student_key("José")
    assert student_key("a/b") == "a%2Fb" and student_key("a%2Fb") == "a%252Fb"
    assert student_key("..") == "%2E." and student_key(".x") == "%2Ex" and student_key(" a ") == "%20a%20"
    assert student_key("a\udcff") == "a%uDCFF" and student_key("a\x1b[2J") == "a%1B%5B2J"
    assert student_key("") == "%"


def test_long_names_get_a_bounded_key_with_a_hash():
    long_a, long_b = "é" * 500 + "a", "é" * 500 + "b"
    key_a, key_b = student_key(long_a), student_key(long_b)
    assert key_a != key_b and is_shortened(key_a)
    assert len(key_a.encode()) <= MAX_KEY_BYTES and len(key_a) <= 200
    assert not is_shortened(student_key("alice"))


names = st.text(alphabet=st.characters(exclude_categories=()), max_size=80)  # surrogates too


@given(names, names)
def test_different_names_never_share_a_key(a, b):
    if unicodedata.normalize("NFC", a) != unicodedata.normalize("NFC", b):
        assert student_key(a) != student_key(b)


@given(names)
def test_every_key_is_one_safe_folder_name(name):
    key = student_key(name)
    assert is_safe_component(key) and key not in (".", "..") and "/" not in key and "\x00" not in key
    assert safe_name(key) == key


def test_safe_name_escapes_ids_that_are_no_folder_name():
    assert safe_name("../etc") == "%2E.%2Fetc" and safe_name("alice") == "alice" and safe_name("Bob_Jr") == "Bob_Jr"
