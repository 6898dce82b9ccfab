"""The host services that plugins receive (implementations of :mod:`hookspecs.services`)."""

from lms_host.services.clock import OrgClock
from lms_host.services.directory import SqlDirectory
from lms_host.services.host import LmsHost
from lms_host.services.i18n import ViewerTranslator
from lms_host.services.mailer import SmtpMailer
from lms_host.services.settings import ModuleSettingsStore, SecretBox
from lms_host.services.urls import HostUrls

__all__ = [
    "HostUrls",
    "LmsHost",
    "ModuleSettingsStore",
    "OrgClock",
    "SecretBox",
    "SmtpMailer",
    "SqlDirectory",
    "ViewerTranslator",
]
