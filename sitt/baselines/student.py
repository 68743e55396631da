"""The student of BC and DAgger is :class:`sitt.student.StudentPolicy`, the one student of every method.

Kept as an import path: ``from sitt.baselines.student import StudentPolicy`` still works.
"""

from sitt.student import StudentObsFn, StudentPolicy, actions_from_head

__all__ = ["StudentObsFn", "StudentPolicy", "actions_from_head"]
