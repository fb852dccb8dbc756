"""Feature flags through Powertools Feature Flags: which visual features are on, and for whom.

The flags are one document in Powertools' schema, `infra/feature-flags.json`. In AWS the template deploys
it to an AppConfig hosted profile and `AppConfigStore` reads it (cached for `feature_flags_max_age_sec`);
in `make dev` and the tests a file store reads a file in the same schema, again whenever the file changes
(the stores live in casset.data.flag_store).
Rules see {"artist_id", "user_id", "groups", "stage"}, so they can target the launch-partner artists
(`KEY_IN_VALUE` on artist_id, or their JWT group) and internal staff (`VALUE_IN_KEY` on groups).

When the store cannot be read, or serves a document that fails validation:
- a process that has read a good document keeps serving it (logged), and asks the store again only after
  max_age, so an AppConfig outage costs one slow call per container per interval, not one per request;
- a process that never read one answers `visual_marketplace` and `visual_generation` as off (fail closed:
  an outage never launches a feature early), and raises FlagsUnavailable (503 FLAGS_UNAVAILABLE, retry)
  for the launched `visual_pairing_v1`/`v2`: "off" would wrongly tell every client the product is gone,
  "on" could open a feature still in a scoped rollout, so the honest answer is "unknown, retry".
"""

from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.feature_flags import FeatureFlags

from casset.data.flag_store import build_store
from casset.errors import FeatureDisabled, FlagsUnavailable
from casset.rules import Caller
from casset.settings import get_settings

logger = Logger(child=True)


class Feature(StrEnum):
    VISUAL_PAIRING_V1 = "visual_pairing_v1"
    VISUAL_PAIRING_V2 = "visual_pairing_v2"
    VISUAL_MARKETPLACE = "visual_marketplace"
    VISUAL_GENERATION = "visual_generation"

    @property
    def label(self) -> str:
        """The feature in plain words, for messages."""
        return _LABELS[self]


_LABELS = {
    Feature.VISUAL_PAIRING_V1: "Visual pairing",
    Feature.VISUAL_PAIRING_V2: "The visual library",
    Feature.VISUAL_MARKETPLACE: "The visual marketplace",
    Feature.VISUAL_GENERATION: "Visual generation",
}
# A feature's state when this process has never read a valid document; None: FlagsUnavailable.
_WHEN_UNREADABLE: dict[Feature, bool | None] = {
    Feature.VISUAL_PAIRING_V1: None,
    Feature.VISUAL_PAIRING_V2: None,
    Feature.VISUAL_MARKETPLACE: False,
    Feature.VISUAL_GENERATION: False,
}


@lru_cache(maxsize=1)
def feature_flags() -> FeatureFlags:
    """The process's one FeatureFlags, built from the settings on first use."""
    return FeatureFlags(store=build_store(get_settings()), logger=logger)


def reset() -> None:
    """Forget the cached FeatureFlags (and its last good document): the next evaluation rebuilds it from
    the settings. For tests, after they change the settings."""
    feature_flags.cache_clear()


def evaluation_context(
    *, artist_id: str | None = None, user_id: str | None = None, groups: Iterable[str] = ()
) -> dict[str, Any]:
    """What the rules see. Unknown ids are left out: Powertools never matches a condition on a missing key."""
    context: dict[str, Any] = {"groups": sorted(set(groups)), "stage": get_settings().stage}
    if artist_id:
        context["artist_id"] = artist_id
    if user_id:
        context["user_id"] = user_id
    return context


def is_enabled(
    feature: Feature, *, artist_id: str | None = None, user_id: str | None = None, groups: Iterable[str] = ()
) -> bool:
    """Whether the feature is on for this artist (the owner of what is being used) and caller.

    Raises FlagsUnavailable for visual_pairing_v1/v2 when no flag document was ever readable."""
    context = evaluation_context(artist_id=artist_id, user_id=user_id, groups=groups)
    # Powertools answers the default when the store raises ConfigurationStoreError: None marks "unknown".
    value = feature_flags().evaluate(name=feature.value, context=context, default=None)
    if value is None:
        fallback = _WHEN_UNREADABLE[feature]
        if fallback is None:
            raise FlagsUnavailable("Feature flags could not be read; try again in a moment.")
        return fallback
    return bool(value)


def require(
    feature: Feature, *, artist_id: str | None = None, user_id: str | None = None, groups: Iterable[str] = ()
) -> None:
    """Raise FeatureDisabled (403 FEATURE_DISABLED) unless the feature is on; see is_enabled."""
    if not is_enabled(feature, artist_id=artist_id, user_id=user_id, groups=groups):
        raise FeatureDisabled(feature.value, feature.label)


def features(
    *, artist_id: str | None = None, user_id: str | None = None, groups: Iterable[str] = ()
) -> dict[Feature, bool]:
    """Every feature's state for this artist and caller (what GET /api/features answers)."""
    group_list = list(groups)
    return {
        feature: is_enabled(feature, artist_id=artist_id, user_id=user_id, groups=group_list)
        for feature in Feature
    }


def require_for(feature: Feature, caller: Caller, artist_id: str) -> None:
    """`require` for a use case on an artist's track: the rules see the artist and whoever is calling."""
    require(feature, artist_id=artist_id, user_id=caller.user_id, groups=caller.groups)
