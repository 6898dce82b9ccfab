"""Demo data: a small university with people, groups, this week's lessons (always some today) and chats."""

from lms_host.demo._loader import load_demo_data

__all__ = ["load_demo_data"]
