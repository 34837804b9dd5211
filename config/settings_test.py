"""Test settings: the real settings, with a fast password hasher and no throttling."""

from config.settings import *  # noqa: F403
from config.settings import REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Throttling is tested explicitly by overriding settings; elsewhere it would make the
# suite's many anonymous requests flaky.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute"},
}
