"""Authentication: the signed-in user comes with their contact profile (every page's header
shows it) in the same query; API tokens that fail are throttled per client address."""

from __future__ import annotations

import copy
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class ProfileModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("agent_profile").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class FailedTokenThrottle(SimpleRateThrottle):
    """Counts only wrong tokens, per client address (DRF's throttles run after
    authentication, so a request with a bad token never reached them)."""

    scope = "failed_token"
    num_requests: int  # set from the rate in SimpleRateThrottle.__init__
    duration: int

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def blocked(self, request: Request) -> float | None:
        """Seconds to wait while the address has used up its wrong tokens, else None."""
        self.key = self.get_cache_key(request, None)
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]
        if len(self.history) >= self.num_requests:
            return self.wait()
        return None

    def record_failure(self) -> None:
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


def _token_cache_seconds() -> float:
    return float(getattr(settings, "API_TOKEN_CACHE_SECONDS", 5))


# {token key: (read at, user, token)} of this process; each request gets its own copies.
_TOKENS: dict[str, tuple[float, Any, Any]] = {}
_TOKENS_MAX = 10_000


def forget_tokens(*, key: str | None = None, user_id: int | None = None) -> None:
    """Drop cached tokens (one key, a user's, or all): a revoked token or a deactivated user
    is refused at once in this process, and within ``API_TOKEN_CACHE_SECONDS`` in others."""
    if key is None and user_id is None:
        _TOKENS.clear()
        return
    for cached_key, (_read_at, user, _token) in list(_TOKENS.items()):
        if cached_key == key or (user_id is not None and user.pk == user_id):
            _TOKENS.pop(cached_key, None)


def _fresh(user: Any) -> Any:
    """A copy of the cached user (and their profile) for one request: per-request state set
    on it (managed teams, time zone rows) never outlives the request."""
    copied = copy.copy(user)
    profile = user._state.fields_cache.get("agent_profile")
    if profile is not None:
        profile = copy.copy(profile)
        profile._state.fields_cache["user"] = copied
        copied._state.fields_cache["agent_profile"] = profile
    return copied


_TEAM = ("id", "time_zone", "phone_region")


def _token_with_teams(model: Any, key: str) -> Any | None:
    """The token with its user and profile, and the teams the user works in or manages, in
    one statement (a row per pair of a team worked in and a team managed): the user comes
    with ``cases.permissions``' team rows set, and the token cache keeps them with it."""
    from cases.permissions import remember_team_rows

    worked, managed = "user__agent_profile__teams__", "user__managed_teams__"
    rows = list(
        model.objects.select_related("user__agent_profile")
        .filter(key=key)
        .annotate(
            **{f"w_{name}": F(worked + name) for name in _TEAM},
            **{f"m_{name}": F(managed + name) for name in _TEAM},
        )
    )
    if not rows:
        return None
    teams: dict[int, tuple[str, str]] = {}
    for row in rows:
        for side in ("w", "m"):
            pk = getattr(row, f"{side}_id")
            if pk is not None:
                teams[pk] = (
                    getattr(row, f"{side}_time_zone"),
                    getattr(row, f"{side}_phone_region"),
                )
    token = rows[0]
    remember_team_rows(token.user, teams)
    return token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check with the token's user (their profile and teams) kept in this process
    for ``API_TOKEN_CACHE_SECONDS`` (default 5): a hot API client costs no query for its token
    or its teams, and a new one a single query for both.
    Revoking a token (deleting it), deactivating the user or changing their teams takes
    effect at once in the process that did it and within those seconds everywhere else."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        ttl = _token_cache_seconds()
        now = time.time()
        hit = _TOKENS.get(key) if ttl > 0 else None
        if hit is not None and now - hit[0] < ttl:
            return _fresh(hit[1]), hit[2]
        token = _token_with_teams(self.get_model(), key)
        if token is None:
            _TOKENS.pop(key, None)
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            _TOKENS.pop(key, None)
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if ttl > 0:
            if len(_TOKENS) >= _TOKENS_MAX:
                _TOKENS.clear()
            _TOKENS[key] = (now, _fresh(token.user), token)
        return token.user, token

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        throttle = FailedTokenThrottle()
        wait = throttle.blocked(request)
        if wait is not None:
            raise exceptions.Throttled(wait)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            throttle.record_failure()
            raise


def _forget_deleted_token(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget_tokens(key=instance.key)


def _forget_saved_user(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget_tokens(user_id=instance.pk)


def _forget_every_token(sender: Any, **kwargs: Any) -> None:
    forget_tokens()


def _forget_team(sender: Any, update_fields: Any = None, **kwargs: Any) -> None:
    # a team's last assignee or on-duty agent (saved all day) is not what the users carry
    if update_fields is None or {"time_zone", "phone_region"} & set(update_fields):
        forget_tokens()


def _forget_profile(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget_tokens(user_id=instance.user_id)


def connect_token_cache() -> None:
    """A token deleted, or its user saved (deactivated, renamed), leaves the cache at once;
    a change of who works in or manages a team, or of a team, empties it (the cached users
    carry their teams: ``_token_with_teams``)."""
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from rest_framework.authtoken.models import Token

    from cases.models import AgentProfile, Team

    post_delete.connect(_forget_deleted_token, sender=Token, dispatch_uid="forget_token")
    post_save.connect(_forget_saved_user, sender=get_user_model(), dispatch_uid="forget_user")
    post_delete.connect(_forget_saved_user, sender=get_user_model(), dispatch_uid="forget_gone")
    for through in (AgentProfile.teams.through, Team.managers.through):
        m2m_changed.connect(_forget_every_token, sender=through, dispatch_uid=f"forget_{through}")
    post_save.connect(_forget_team, sender=Team, dispatch_uid="forget_team_saved")
    post_delete.connect(_forget_every_token, sender=Team, dispatch_uid="forget_team_gone")
    post_save.connect(_forget_profile, sender=AgentProfile, dispatch_uid="forget_profile")
    post_delete.connect(_forget_profile, sender=AgentProfile, dispatch_uid="forget_profile_gone")
