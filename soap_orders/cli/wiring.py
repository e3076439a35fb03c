"""What every command shares: the settings, the wired collaborators for one command, and domain
errors turned into a one-line message."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import click

from ..config import ConfigError, Settings

if TYPE_CHECKING:
    from ..bootstrap import Dependencies

T = TypeVar("T")


def settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as error:
        raise click.UsageError(str(error)) from None


@contextmanager
def dependencies() -> Iterator[Dependencies]:
    """The wired collaborators for one command; the database engine is closed afterwards."""
    from ..bootstrap import build_dependencies

    try:
        deps = build_dependencies(settings())
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    try:
        yield deps
    finally:
        deps.engine.dispose()


def domain_errors(action: Callable[[], T]) -> T:
    """Run ``action``; a domain error becomes a one-line message and exit status 1."""
    from ..domain.errors import DomainError

    try:
        return action()
    except DomainError as error:
        raise click.ClickException(error.message) from None
