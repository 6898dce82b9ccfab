"""Demo data: a small university with people, groups, this week's lessons (always some today) and chats."""

from lms_host.demo._loader import load_demo_data
from lms_host.demo._people import DemoPerson, demo_people

__all__ = ["DemoPerson", "demo_people", "load_demo_data"]
