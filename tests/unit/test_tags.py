"""The tag allowlist: free text is normalised to one slug or refused with the list of allowed tags."""

import pytest

from casset import tags
from casset.errors import BadRequest


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("dark", "dark"),
        ("DARK", "dark"),
        ("  Dark  ", "dark"),
        ("Lo-Fi", "lofi"),
        ("lo fi", "lofi"),
        ("LOFI", "lofi"),
        ("hip hop", "hip-hop"),
        ("HipHop", "hip-hop"),
        ("rap", "hip-hop"),
        ("R&B", "rnb"),
        ("r and b", "rnb"),
        ("3D", "3d"),
        ("3-d", "3d"),
        ("CGI", "3d"),
        ("films", "film"),
        ("35mm", "film"),
        ("Animé", "anime"),
        ("moody", "dark"),
        ("chilled", "chill"),
        ("late-night", "nocturnal"),
        ("Melancholies", "melancholic"),  # plural of the synonym "melancholy"
        ("EDM", "electronic"),
        ("glitches", "glitch"),
        ("minimalist", "minimal"),
        ("polka", None),
        ("", None),
    ],
)
def test_free_text_maps_to_one_allowlisted_slug(text: str, slug: str | None) -> None:
    assert tags.normalise_tag(text) == slug


def test_tags_come_back_deduplicated_in_allowlist_order() -> None:
    assert tags.normalise_tags(["Film", "dark", "films", "DARK", "chill"]) == ["chill", "dark", "film"]


def test_unknown_tags_are_refused_with_what_is_allowed() -> None:
    with pytest.raises(BadRequest) as raised:
        tags.normalise_tags(["dark", "polka", "kazoo"])
    error = raised.value
    assert error.code == "INVALID_TAG"
    assert error.details[0]["rejected"] == ["polka", "kazoo"]
    assert error.details[0]["allowed"] == [tag.slug for tag in tags.ALLOWLIST]
    assert "'polka', 'kazoo'" in error.message
    assert "mood: chill, dark" in error.message and "genre: lofi, hip-hop" in error.message


def test_a_track_takes_only_genre_and_mood_tags() -> None:
    assert tags.normalise_tags(["lofi", "nostalgic"], tags.TRACK_CATEGORIES) == ["nostalgic", "lofi"]
    with pytest.raises(BadRequest) as raised:
        tags.normalise_tags(["film"], tags.TRACK_CATEGORIES)
    assert raised.value.details[0]["rejected"] == ["film"]
    assert "film" not in raised.value.details[0]["allowed"]
    assert "aesthetic" not in raised.value.message


def test_too_many_tags_are_refused() -> None:
    many = [tag.slug for tag in tags.ALLOWLIST][: tags.MAX_TAGS + 1]
    with pytest.raises(BadRequest) as raised:
        tags.normalise_tags(many)
    assert raised.value.code == "TOO_MANY_TAGS"
    assert len(tags.normalise_tags(many[: tags.MAX_TAGS])) == tags.MAX_TAGS


def test_every_synonym_and_label_reaches_its_own_tag() -> None:
    for tag in tags.ALLOWLIST:
        for name in (tag.slug, tag.label, *tag.synonyms):
            assert tags.normalise_tag(name) == tag.slug, name


@pytest.mark.parametrize(
    ("low", "high", "ok"),
    [
        (80, 90, True),
        (90, 90, True),
        (None, 120, True),
        (60, None, True),
        (None, None, True),
        (91, 90, False),
        (19, 90, False),
        (80, 301, False),
    ],
)
def test_bpm_ranges_are_checked(low: int | None, high: int | None, ok: bool) -> None:
    if ok:
        tags.check_bpm_range(low, high)
    else:
        with pytest.raises(BadRequest) as raised:
            tags.check_bpm_range(low, high)
        assert raised.value.code == "INVALID_BPM_RANGE"


def test_stored_sets_come_back_in_allowlist_order_without_retired_slugs() -> None:
    assert tags.ordered({"film", "dark", "retired-tag"}) == ["dark", "film"]
