"""A WHERE clause built from optional conditions, with numbered parameters (asyncpg's $n), and the
contains-pattern for ILIKE: the list pages of every service build their queries with these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Where:
    parts: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def add(self, sql: str) -> None:
        self.parts.append(sql)

    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "true"


def like(text: str) -> str:
    """A contains-pattern for ILIKE with the wildcards of the input escaped."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
