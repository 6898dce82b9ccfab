"""The demo organisation: who works and studies there, and how the week's lessons are laid out."""

from __future__ import annotations

from datetime import time

DEMO_PASSWORD = "demo"  # noqa: S105 - the documented password of the demo accounts

UNITS = ("Кафедра информационных технологий", "Кафедра прикладной математики", "Учебный отдел")

# record number, full name, e-mail, unit, position, status, username
EMPLOYEES = (
    ("E-001", "Петров Иван Сергеевич", "i.petrov@example.edu", 0, "Доцент", "active", "teacher"),
    ("E-002", "Смирнова Ольга Викторовна", "o.smirnova@example.edu", 1, "Старший преподаватель", "active", None),
    ("E-003", "Сидорова Анна Павловна", "a.sidorova@example.edu", 2, "Методист", "active", "employee"),
    ("E-004", "Орлов Дмитрий Алексеевич", "d.orlov@example.edu", 0, "Профессор", "active", None),
    ("E-005", "Лебедева Наталья Игоревна", "n.lebedeva@example.edu", 1, "Заведующий кафедрой", "active", None),
    ("E-006", "Морозов Павел Андреевич", "p.morozov@example.edu", 2, "Специалист", "active", None),
    ("E-007", "Николаева Елена Сергеевна", "e.nikolaeva@example.edu", 0, "Ассистент", "dismissed", None),
    ("E-008", "Фёдоров Сергей Николаевич", "", 2, "Инженер", "dismissed", None),
)

# title, unit, year, curator (employee record number)
GROUPS = (
    ("ИВТ-21", 0, 3, "E-001"),
    ("ИВТ-22", 0, 2, "E-004"),
    ("ПМ-21", 1, 3, "E-002"),
)
STUDENTS_PER_GROUP = 22
STUDENT_ACCOUNT = ("S-ИВТ-21-01", "Кузнецов Алексей Игоревич", "a.kuznetsov@students.example.edu")

USERS = (
    ("admin", "Администратор ЛК", "admin@example.edu", "admin"),
    ("teacher", "Петров Иван Сергеевич", "i.petrov@example.edu", "employee"),
    ("employee", "Сидорова Анна Павловна", "a.sidorova@example.edu", "employee"),
    ("student", "Кузнецов Алексей Игоревич", "a.kuznetsov@students.example.edu", "student"),
)

# Every group has three back-to-back pairs on Monday to Saturday.  Teachers rotate through a Latin square
# (group + slot + day), so no teacher is ever in two places at once.
SLOTS = (time(8, 30), time(10, 0), time(11, 30))
PAIR_MINUTES = 90
TEACHERS = (
    ("E-001", ("Базы данных", "Программирование на Python"), "301"),
    ("E-002", ("Математический анализ", "Теория вероятностей"), "214"),
    ("E-004", ("Операционные системы", "Компьютерные сети"), "302"),
)
ALL_DAY_GROUP = "ИВТ-21"
FILLER_SUBJECTS = ("Консультация по курсовому проекту", "Практикум по базам данных")
FILLER_MINUTES = 90

CHATS = (
    (
        "ИВТ-21 — общий чат",
        ("teacher", "student"),
        (
            ("teacher", "Добрый день! Расписание на неделю опубликовано в личном кабинете."),
            ("student", "Спасибо! Лабораторная по базам данных будет в 301?"),
            ("teacher", "Да, в 301. Подробности: https://example.edu/courses/db"),
        ),
    ),
    (
        "Кафедра информационных технологий",
        ("teacher", "admin"),
        (("admin", "Коллеги, напоминаю о заседании кафедры в четверг."),),
    ),
    ("Учебный отдел", ("employee", "admin"), (("employee", "Ведомости за семестр загружены."),)),
)
