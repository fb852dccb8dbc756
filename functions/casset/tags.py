"""The tag allowlist: free text in, allowlisted slugs out, or a 400 that lists what is allowed.

Small on purpose (spec §4 V2, §8 phase 1): tags exist so artists can filter a library and so suggestions can
match a track's genre and mood to a visual. A closed list keeps "Lo-Fi", "lofi" and "lo fi" one tag.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from casset.errors import BadRequest

MAX_TAGS = 12
BPM_MIN, BPM_MAX = 20, 300


class TagCategory(StrEnum):
    MOOD = "mood"
    AESTHETIC = "aesthetic"
    GENRE = "genre"


@dataclass(frozen=True)
class Tag:
    slug: str
    label: str
    category: TagCategory
    synonyms: tuple[str, ...] = ()


_MOOD, _AESTHETIC, _GENRE = TagCategory.MOOD, TagCategory.AESTHETIC, TagCategory.GENRE

# Seeded from the spec's examples (mood: chill / dark / euphoric / nostalgic; aesthetic: film / 3D / anime /
# generative; "moody, nocturnal"; "lofi → muted, slow visuals") plus the neighbours artists reach for.
ALLOWLIST: tuple[Tag, ...] = (
    Tag("chill", "Chill", _MOOD, ("chilled", "calm", "relaxed", "mellow", "laid back")),
    Tag("dark", "Dark", _MOOD, ("moody", "gloomy", "brooding")),
    Tag("euphoric", "Euphoric", _MOOD, ("uplifting", "ecstatic", "happy")),
    Tag("nostalgic", "Nostalgic", _MOOD, ("nostalgia", "wistful")),
    Tag("nocturnal", "Nocturnal", _MOOD, ("night", "late night", "nighttime")),
    Tag("dreamy", "Dreamy", _MOOD, ("ethereal", "hazy")),
    Tag("energetic", "Energetic", _MOOD, ("hype", "high energy", "intense")),
    Tag("melancholic", "Melancholic", _MOOD, ("sad", "melancholy", "somber", "sombre")),
    Tag("romantic", "Romantic", _MOOD, ("love",)),
    Tag("film", "Film", _AESTHETIC, ("analog", "analogue", "35mm", "16mm", "super 8", "filmic")),
    Tag("3d", "3D", _AESTHETIC, ("three d", "cgi", "3d render")),
    Tag("anime", "Anime", _AESTHETIC, ("animé", "manga")),
    Tag("generative", "Generative", _AESTHETIC, ("procedural", "algorithmic", "shader")),
    Tag("vhs", "VHS", _AESTHETIC, ("camcorder",)),
    Tag("glitch", "Glitch", _AESTHETIC, ("datamosh",)),
    Tag("abstract", "Abstract", _AESTHETIC, ()),
    Tag("nature", "Nature", _AESTHETIC, ("landscape", "outdoors")),
    Tag("urban", "Urban", _AESTHETIC, ("city", "street")),
    Tag("minimal", "Minimal", _AESTHETIC, ("minimalist", "minimalism")),
    Tag("lofi", "Lo-fi", _GENRE, ("lofi hip hop", "low fidelity")),
    Tag("hip-hop", "Hip-hop", _GENRE, ("rap",)),
    Tag("rnb", "R&B", _GENRE, ("r and b", "rhythm and blues")),
    Tag("pop", "Pop", _GENRE, ()),
    Tag("electronic", "Electronic", _GENRE, ("edm", "electronica")),
    Tag("house", "House", _GENRE, ("deep house",)),
    Tag("techno", "Techno", _GENRE, ()),
    Tag("ambient", "Ambient", _GENRE, ("drone",)),
    Tag("indie", "Indie", _GENRE, ("indie rock", "indie pop")),
    Tag("rock", "Rock", _GENRE, ()),
    Tag("jazz", "Jazz", _GENRE, ()),
    Tag("trap", "Trap", _GENRE, ()),
    Tag("afrobeats", "Afrobeats", _GENRE, ("afrobeat", "afropop")),
)
TRACK_CATEGORIES = frozenset({TagCategory.GENRE, TagCategory.MOOD})

BY_SLUG = {tag.slug: tag for tag in ALLOWLIST}
_ORDER = {tag.slug: position for position, tag in enumerate(ALLOWLIST)}


def _compact(text: str) -> str:
    """Case, accents, '&', spacing and punctuation folded away: "Lo-Fi", "lo fi" and "LOFI" meet."""
    folded = unicodedata.normalize("NFKD", text.casefold().replace("&", " and "))
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", "", folded)


_LOOKUP: dict[str, str] = {}
for _tag in ALLOWLIST:
    for _name in (_tag.slug, _tag.label, *_tag.synonyms):
        _LOOKUP.setdefault(_compact(_name), _tag.slug)


def _singular_forms(compact: str) -> Iterable[str]:
    if compact.endswith("ies"):
        yield compact[:-3] + "y"
    if compact.endswith("es"):
        yield compact[:-2]
    if compact.endswith("s"):
        yield compact[:-1]


def normalise_tag(text: str) -> str | None:
    """The allowlisted slug for free text, or None."""
    compact = _compact(text)
    if compact in _LOOKUP:
        return _LOOKUP[compact]
    return next((_LOOKUP[form] for form in _singular_forms(compact) if form in _LOOKUP), None)


def normalise_tags(texts: Iterable[str], categories: frozenset[TagCategory] | None = None) -> list[str]:
    """Slugs in allowlist order without duplicates; any unknown (or out-of-category) text is a 400 that names
    it and lists every tag that would have been accepted."""
    allowed = [tag for tag in ALLOWLIST if categories is None or tag.category in categories]
    allowed_slugs = {tag.slug for tag in allowed}
    slugs: set[str] = set()
    rejected: list[str] = []
    for text in texts:
        slug = normalise_tag(text)
        if slug is None or slug not in allowed_slugs:
            rejected.append(text)
        else:
            slugs.add(slug)
    if rejected:
        listing = "; ".join(
            f"{category}: {', '.join(tag.slug for tag in allowed if tag.category is category)}"
            for category in TagCategory
            if any(tag.category is category for tag in allowed)
        )
        unknown = ", ".join(map(repr, rejected))
        raise BadRequest(
            f"Unknown tag{'s' if len(rejected) > 1 else ''} {unknown}. Allowed: {listing}.",
            code="INVALID_TAG",
            details=[{"rejected": rejected, "allowed": sorted(allowed_slugs, key=_ORDER.__getitem__)}],
        )
    if len(slugs) > MAX_TAGS:
        raise BadRequest(f"At most {MAX_TAGS} tags.", code="TOO_MANY_TAGS", details=[{"max": MAX_TAGS}])
    return sorted(slugs, key=_ORDER.__getitem__)


def check_bpm_range(bpm_min: int | None, bpm_max: int | None) -> None:
    for value in (bpm_min, bpm_max):
        if value is not None and not BPM_MIN <= value <= BPM_MAX:
            raise BadRequest(
                f"BPM must be between {BPM_MIN} and {BPM_MAX}.",
                code="INVALID_BPM_RANGE",
                details=[{"min": BPM_MIN, "max": BPM_MAX}],
            )
    if bpm_min is not None and bpm_max is not None and bpm_min > bpm_max:
        raise BadRequest("bpmMin must not be above bpmMax.", code="INVALID_BPM_RANGE")


def ordered(slugs: Iterable[str]) -> list[str]:
    """Known slugs in allowlist order (a stored set has none)."""
    return sorted((slug for slug in slugs if slug in BY_SLUG), key=_ORDER.__getitem__)
