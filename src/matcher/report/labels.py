"""Teachers and schools as a page names them (TeacherTable.teacher_label, school_label), escaped: worked out once
per table and shared by the school pages and the handouts, as a statewide run names ~60,000 teachers."""

from __future__ import annotations

from html import escape

from ..io.table import TeacherTable

_SPECIAL = "&<>\"'"  # what html.escape replaces


class PageLabels:
    """Escaped labels of one table's teachers and schools."""

    def __init__(self, table: TeacherTable):
        self.t = table
        self._plain: list[str] | None = None  # every label, when none needs escaping
        self._checked = False
        self._school_of: list[str] | None = None
        self._teachers: dict[int, str] = {}
        self._schools: dict[str, str] = {}

    def prepare(self) -> PageLabels:
        """Check every label at once (before a fork, so that the workers share the answer); self."""
        if not self._checked:
            labels = self.t.labels.tolist()
            try:
                text = "\0".join(labels)
                plain = not any(c in text for c in _SPECIAL)
            except TypeError:  # not all str: one at a time
                plain = False
            self._plain = labels if plain else None
            self._checked = True
        if self._school_of is None:
            self._school_of = self.t.school_id.tolist()
        return self

    @property
    def school_of(self) -> list[str]:
        """Each row's school id, as a list (an element at a time from numpy is slower)."""
        if self._school_of is None:
            self._school_of = self.t.school_id.tolist()
        return self._school_of

    def of(self, i: int) -> str:
        """The escaped label of row i."""
        if self._plain is not None:
            return self._plain[i]
        if not self._checked:
            self.prepare()
            if self._plain is not None:
                return self._plain[i]
        got = self._teachers.get(i)
        if got is None:
            got = self._teachers[i] = escape(str(self.t.labels[i]))
        return got

    def teacher(self, teacher_id: str, name: str = "") -> str:
        """escape(table.teacher_label(teacher_id, name))."""
        i = self.t.index.get(teacher_id)
        return escape(name or teacher_id) if i is None else self.of(i)

    def school(self, school_id: str) -> str:
        """escape(table.school_label(school_id))."""
        got = self._schools.get(school_id)
        if got is None:
            got = self._schools[school_id] = escape(self.t.school_label(school_id))
        return got
