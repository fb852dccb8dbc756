"""Feature flags through Powertools Feature Flags: which visual features are on, and for whom.

The flags are one document in Powertools' schema, `infra/feature-flags.json`. In AWS the template deploys
it to an AppConfig hosted profile and `AppConfigStore` reads it (cached for `feature_flags_max_age_sec`);
in `make dev` and the tests `FileStore` reads a file in the same schema, again whenever the file changes.
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

import json
import threading
import time
from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.feature_flags import AppConfigStore, FeatureFlags
from aws_lambda_powertools.utilities.feature_flags.base import StoreProvider
from aws_lambda_powertools.utilities.feature_flags.exceptions import (
    ConfigurationStoreError,
    SchemaValidationError,
    StoreClientError,
)
from aws_lambda_powertools.utilities.feature_flags.schema import SchemaValidator

from casset.errors import FeatureDisabled, FlagsUnavailable
from casset.rules import Caller
from casset.settings import Settings, get_settings

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
# Membership actions whose value must be a list: with a string, `in` matches substrings ("artist-1" in
# "artist-12").
_LIST_ACTIONS = {"IN", "NOT_IN", "KEY_IN_VALUE", "KEY_NOT_IN_VALUE"}
_STORE_ERRORS = (ConfigurationStoreError, StoreClientError, SchemaValidationError)


def validate_document(document: Any) -> dict[str, Any]:
    """Powertools' schema, plus ours: every Feature is a boolean flag, membership tests use lists."""
    if not isinstance(document, dict):
        raise SchemaValidationError("the feature flags document is not a JSON object")
    missing = [feature.value for feature in Feature if feature.value not in document]
    if missing:
        raise SchemaValidationError(f"the feature flags document lacks {', '.join(missing)}")
    SchemaValidator(schema=document, logger=logger).validate()
    for feature in Feature:
        if document[feature.value].get("boolean_type", True) is not True:
            raise SchemaValidationError(f"{feature.value} must be a boolean flag")
    for name, flag in document.items():
        for rule_name, rule in (flag.get("rules") or {}).items():
            for condition in rule["conditions"]:
                if condition["action"] in _LIST_ACTIONS and not isinstance(condition["value"], list):
                    raise SchemaValidationError(
                        f"{name}, rule {rule_name!r}: {condition['action']} needs a list value"
                    )
    return document


class FileStore(StoreProvider):
    """A flag document in a local JSON file (make dev, tests), read again whenever the file changes (its
    mtime, size or inode), so a developer can flip a flag while the stack runs."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._document: dict[str, Any] = {}

    @property
    def get_raw_configuration(self) -> dict[str, Any]:
        with self._lock:
            try:
                stat = self.path.stat()
                stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
                if stamp != self._stamp:
                    document = json.loads(self.path.read_bytes())
                    if not isinstance(document, dict):
                        raise ValueError("not a JSON object")
                    self._document, self._stamp = document, stamp
            except (OSError, ValueError) as error:
                raise ConfigurationStoreError(
                    f"cannot read feature flags from {self.path}: {error}"
                ) from error
            return self._document

    def get_configuration(self) -> dict[str, Any]:
        return self.get_raw_configuration


class UnconfiguredStore(StoreProvider):
    """Neither a file nor an AppConfig profile is configured: every read fails (and says why)."""

    @property
    def get_raw_configuration(self) -> dict[str, Any]:
        raise ConfigurationStoreError(
            "no feature flag store: set FEATURE_FLAGS_FILE, or FEATURE_FLAGS_APPLICATION, "
            "FEATURE_FLAGS_ENVIRONMENT and FEATURE_FLAGS_PROFILE"
        )

    def get_configuration(self) -> dict[str, Any]:
        return self.get_raw_configuration


class LastGoodStore(StoreProvider):
    """Wraps a store: validates what it serves, keeps the last valid document for when it fails or serves
    an invalid one, and after a failure waits retry_after_sec before asking it again. Raises
    ConfigurationStoreError only while no valid document has ever been read."""

    def __init__(
        self, store: StoreProvider, retry_after_sec: float, clock: Callable[[], float] = time.monotonic
    ):
        self.store = store
        self.retry_after_sec = retry_after_sec
        self._clock = clock
        self._good: dict[str, Any] | None = None
        self._failure = ""
        self._retry_at = float("-inf")

    @property
    def get_raw_configuration(self) -> dict[str, Any]:
        return self.get_configuration()

    def get_configuration(self) -> dict[str, Any]:
        now = self._clock()
        if now < self._retry_at:
            return self._fallback()
        try:
            document = self.store.get_configuration()
            if document is not self._good:  # stores hand back the same object until it changes
                validate_document(document)
        except _STORE_ERRORS as error:
            self._retry_at = now + self.retry_after_sec
            failure = f"{type(error).__name__}: {error}"
            # Logged once per retry interval, or (a file, retried at once) once per distinct failure.
            if self.retry_after_sec or failure != self._failure:
                if self._good is None:
                    logger.error("feature flags unreadable, none read before", extra={"reason": failure})
                else:
                    logger.warning(
                        "feature flags unreadable, serving the last good", extra={"reason": failure}
                    )
            self._failure = failure
            return self._fallback()
        self._good, self._failure = document, ""
        return document

    def _fallback(self) -> dict[str, Any]:
        if self._good is None:
            raise ConfigurationStoreError(f"no valid feature flags document read yet ({self._failure})")
        return self._good


def build_store(settings: Settings) -> LastGoodStore:
    """The file store when FEATURE_FLAGS_FILE is set, else AppConfig; wrapped in LastGoodStore."""
    if settings.feature_flags_file:
        # A local file is cheap to read: retry at once, so a fixed typo takes effect on the next request.
        return LastGoodStore(FileStore(settings.feature_flags_file), retry_after_sec=0)
    if (
        settings.feature_flags_application
        and settings.feature_flags_environment
        and settings.feature_flags_profile
    ):
        store = AppConfigStore(
            environment=settings.feature_flags_environment,
            application=settings.feature_flags_application,
            name=settings.feature_flags_profile,
            max_age=settings.feature_flags_max_age_sec,
            logger=logger,
        )
        return LastGoodStore(store, retry_after_sec=settings.feature_flags_max_age_sec)
    return LastGoodStore(UnconfiguredStore(), retry_after_sec=0)


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
