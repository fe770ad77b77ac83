"""System checks: `manage.py check` (and so every deploy and test run) fails when
personal data could escape the registry or the key ring is unusable."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from . import crypto, privacy


@checks.register(checks.Tags.models)
def personal_data_registry(app_configs, **kwargs):
    return [checks.Error(problem, id="nextsupport.E001") for problem in privacy.check_registry()]


@checks.register(checks.Tags.security, deploy=False)
def encryption_keys(app_configs, **kwargs):
    try:
        crypto.keyring()
        crypto.blind_index("check", "check")
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="nextsupport.E002")]
    return []
