"""The handler modules' tables of button actions: each action's code takes, by name, exactly the
numbers its table says the button carries (a misspelt name would fail only when that button is
pressed)."""

from __future__ import annotations

import inspect
from typing import Any

from handlers import account, applications, disposition


def _binds(action: str, take: Any, *args: Any, **kwargs: Any) -> None:
    try:
        inspect.signature(take).bind(*args, **kwargs)
    except TypeError as e:
        raise AssertionError(f"{action}: {e}") from None


def test_every_action_takes_the_numbers_its_table_names() -> None:
    for module in (account, applications):  # take(tap, **numbers)
        for action, (take, names) in module.TAPS.items():
            _binds(action, take, None, **dict.fromkeys(names, 0))
    for action, (take, names) in disposition.TAPS.items():  # take(service, user, **numbers, tapped=...)
        _binds(action, take, None, 0, tapped=(0, 0), **dict.fromkeys(names, 0))
    actions = [*account.ACTIONS, *applications.ACTIONS, *disposition.ACTIONS]
    assert len(actions) == len(set(actions))
