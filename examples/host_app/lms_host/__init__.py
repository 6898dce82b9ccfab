"""The example LMS personal cabinet that hosts ``lms`` plugins.

Create the application with :func:`create_app` (``flask --app lms_host run``); the host contract it implements is
the ``hookspecs`` package.  The host never imports a plugin: plugins come from the ``lms`` entry point group (or
the ``PLUGINS`` list of a test configuration).
"""

from lms_host._app import create_app
from lms_host.cabinet import Cabinet

__all__ = ["Cabinet", "create_app"]
