"""The :class:`hookspecs.services.Host` bundle handed to every hook."""

from __future__ import annotations

import attrs

from lms_host.database import HostDatabase
from lms_host.services.clock import OrgClock
from lms_host.services.directory import SqlDirectory
from lms_host.services.i18n import ViewerTranslator
from lms_host.services.mailer import SmtpMailer
from lms_host.services.settings import ModuleSettingsStore
from lms_host.services.urls import HostUrls

__all__ = ["LmsHost"]


@attrs.frozen
class LmsHost:
    """Everything a plugin may use of the example host."""

    db: HostDatabase
    settings: ModuleSettingsStore
    directory: SqlDirectory
    mailer: SmtpMailer
    clock: OrgClock
    urls: HostUrls
    i18n: ViewerTranslator = attrs.field(factory=ViewerTranslator)
