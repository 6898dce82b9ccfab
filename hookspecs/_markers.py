"""The pluggy markers of project ``lms``: the one place that defines them."""

import pluggy

PROJECT_NAME = "lms"
"""The pluggy project name, which is also the entry point group plugins register under."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
