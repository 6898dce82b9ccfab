"""The dry-run preview of the «Синхронизация чатов» page: what the next pass would add and remove, by name."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from sqlalchemy import select

from hookspecs.services import Host
from sferum_plugin.account import Account
from sferum_plugin.models import ProfileLink
from sferum_plugin.services.sync.worker import PassOptions, run_pass

__all__ = ["ChatPreview", "preview_next_pass"]


@attrs.frozen
class ChatPreview:
    """One chat the next pass would change: its title and the names it would add and remove, sorted."""

    title: str
    add: tuple[str, ...]
    remove: tuple[str, ...]


def preview_next_pass(host: Host, *, account: Account, strict: bool, titles: Mapping[int, str]) -> list[ChatPreview]:
    """Run a dry pass (no Sferum request, nothing written) and name the people it would add and remove.

    :param titles: chat titles by chat row id (the page has them already); an unknown chat shows its id.
    """
    options = PassOptions(dry_run=True, strict=strict)
    report = run_pass(host.db, host.directory, None, account=account, now=host.clock.now(), options=options)
    with host.db.session() as session:
        links = session.execute(
            select(ProfileLink.sferum_user_id, ProfileLink.display_name).where(*account.owns(ProfileLink))
        ).all()
    names = {row.sferum_user_id: row.display_name or f"id{row.sferum_user_id}" for row in links}
    return [
        ChatPreview(
            title=titles.get(pk, str(pk)),
            add=tuple(sorted(names.get(user, f"id{user}") for user in diff.add)),
            remove=tuple(sorted(names.get(user, f"id{user}") for user in diff.remove)),
        )
        for pk, diff in sorted(report.preview.items())
    ]
