import pytest

from fangkong.people.masking import mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("name", "masked"), [("张三明", "张*明"), ("李四", "李*"), ("欧阳小明", "欧**明"), ("王", "王")]
)
def test_names_keep_first_and_last_character(name, masked):
    assert mask_name(name) == masked


def test_resident_id_keeps_first_four_and_last_four():
    assert mask_id_number("44030319900517123X") == "4403**********123X"


def test_other_documents_keep_last_four():
    assert mask_id_number("E12345678") == "*****5678"


def test_phone_keeps_first_three_and_last_four():
    assert mask_phone("13812345678") == "138****5678"
