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


def test_matches_template_is_matching_any_of_the_regions_patterns():
    # the set lookup on a plate's shape against formats.matches over every pattern, region by region
    import random

    from alpr_lib.recognition.formats import matches, plate_formats, regions

    rng = random.Random(5)
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789a-· "
    plates = ["".join(rng.choice(chars) for _ in range(rng.randint(0, 9))) for _ in range(3000)]
    plates += [f.pattern.replace("@", "Q").replace("#", "4") for f in plate_formats()]
    for region in (None, "CA", "ca", "TX", "ZZ", *rng.sample(regions(), 6)):
        known = {f.region for f in plate_formats()}
        pats = [f.pattern for f in plate_formats() if region is None or f.region == region.upper()]
        if region is not None and region.upper() not in known:
            pats = [f.pattern for f in plate_formats()]  # an unknown region falls back to every US format
        for plate in plates:
            assert matches_template(plate, region) == any(matches(plate, p) for p in pats), (plate, region)
