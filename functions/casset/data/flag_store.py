"""Where the feature flag document comes from: a local file (make dev, tests) or AWS AppConfig, behind a
last-good cache that validates what it serves. See casset.flags for what the flags mean."""

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.feature_flags import AppConfigStore
from aws_lambda_powertools.utilities.feature_flags.base import StoreProvider
from aws_lambda_powertools.utilities.feature_flags.exceptions import (
    ConfigurationStoreError,
    SchemaValidationError,
    StoreClientError,
)
from aws_lambda_powertools.utilities.feature_flags.schema import SchemaValidator

from casset.settings import Settings

logger = Logger(child=True)

# The flags every document must define (casset.flags.Feature's values).
REQUIRED_FLAGS = ("visual_pairing_v1", "visual_pairing_v2", "visual_marketplace", "visual_generation")

# Membership actions whose value must be a list: with a string, `in` matches substrings ("artist-1" in
# "artist-12").
_LIST_ACTIONS = {"IN", "NOT_IN", "KEY_IN_VALUE", "KEY_NOT_IN_VALUE"}
_STORE_ERRORS = (ConfigurationStoreError, StoreClientError, SchemaValidationError)


def validate_document(document: Any) -> dict[str, Any]:
    """Powertools' schema, plus ours: every required flag is a boolean flag, membership tests use lists."""
    if not isinstance(document, dict):
        raise SchemaValidationError("the feature flags document is not a JSON object")
    missing = [name for name in REQUIRED_FLAGS if name not in document]
    if missing:
        raise SchemaValidationError(f"the feature flags document lacks {', '.join(missing)}")
    SchemaValidator(schema=document, logger=logger).validate()
    for name in REQUIRED_FLAGS:
        if document[name].get("boolean_type", True) is not True:
            raise SchemaValidationError(f"{name} must be a boolean flag")
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
