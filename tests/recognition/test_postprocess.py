from alpr_lib.recognition.postprocess import (
    corrections,
    format_bonus,
    guess_region,
    matches_template,
    normalise_plate,
)


def test_normalise_plate():
    assert normalise_plate(" abc-123 ") == "ABC123"
    assert normalise_plate("7·ABC 123") == "7ABC123"


def test_matches_template_by_region():
    assert matches_template("7ABC123", "CA")
    assert not matches_template("ABC1234", "CA")
    assert matches_template("ABC1234")  # some US state


def test_corrections_only_where_the_format_demands():
    assert corrections("7ABC123", "CA") == []  # already fits: untouched
    fixed = dict(corrections("7ABCI23", "CA"))  # I where CA wants a digit
    assert "7ABC123" in fixed and fixed["7ABC123"] > 0
    fixed = dict(corrections("70BC123", "CA"))  # 0 where CA wants a letter
    assert "7OBC123" in fixed
    assert corrections("???", "CA") == []


def test_format_bonus_prefers_plates_over_text():
    assert format_bonus("7ABC123") > format_bonus("ABCDEFGHIJ")
    assert format_bonus("7ABC123") > format_bonus("AB")
    assert format_bonus("") < -10


def test_guess_region_from_shape():
    region, conf = guess_region("7ABC123")
    assert region == "ca" and 0 < conf <= 100
    assert guess_region("Q") == ("", 0.0)
