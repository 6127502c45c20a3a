"""Personal data is found in text about to be published, as people write it."""

from __future__ import annotations

import pytest

from fangkong.common.errors import Invalid
from fangkong.people.pii import personal_data_in, redact, refuse_personal_data
from tests.people.factories import resident_id


def test_ids_and_phones_are_found_masked():
    number = resident_id()
    text = f"张伟（身份证号 {number}，电话 138-0013-8000，又 +86 139 1234 5678）"
    found = personal_data_in(text)
    assert found == [number[:4] + "*" * 10 + number[-4:], "138****8000", "139****5678"]


@pytest.mark.parametrize(
    "text",
    [
        "全市累计核酸检测 12345678901234567 人次",  # 17 digits: no ID
        "热线 12345，急救 120",
        "累计 2900000000 份样本",
        "订单号 113800138000123",  # a phone inside a longer number is not a phone
    ],
)
def test_numbers_that_are_not_personal_pass(text):
    assert personal_data_in(text) == []


def test_an_id_with_a_wrong_check_character_is_not_taken_for_one():
    number = resident_id()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert personal_data_in(f"编号 {wrong}") == []


def test_full_width_digits_are_found():
    assert personal_data_in("电话１３８００１３８０００") == ["138****8000"]


def test_each_field_is_named():
    with pytest.raises(Invalid) as error:
        refuse_personal_data({"title": "通报", "body": "联系 13800138000"})
    assert list(error.value.errors) == ["body"] and "138****8000" in error.value.errors["body"][0]


def test_redact_masks_numbers_and_keeps_the_rest():
    number = resident_id()
    text = f"居民换号 139-1234-5678，证件 {number}，已联系"
    assert redact(text) == f"居民换号 139****5678，证件 {number[:4]}{'*' * 10}{number[-4:]}，已联系"
