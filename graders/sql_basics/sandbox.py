"""Statements that create databases and users, run so that they touch nothing but this test's own names.

The student writes `school_db` and `test28`, as the tasks say. Before running, the checks rename them to
names of this test (`course<token>school`, `test28_<token>`), run `create database`/`drop database` and
`grant` as a throw-away account that may only touch that one database, and run `create user` as the
administrator only when it creates that one user and nothing else. Everything is dropped afterwards, also
when the student's statement failed half-way.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pymysql

from graders.harness.core.curriculum import say
from graders.harness.core.student import StudentError
from graders.harness.services.mysql import MYSQL_SQL_MODE, MySQLDatabase
from graders.harness.sql import statements as sql
from graders.harness.sql.state import code_of

NAMES = {"school_db": ("database", "数据库"), "test28": ("user", "用户")}

_QUOTED = r"(?:'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|`[^`]*`)"
_ACCOUNT = re.compile(
    r"(?P<q>['\"`]?)(?P<user>[A-Za-z0-9_$]+)(?P=q)(?:\s*@\s*(?P<hq>['\"`]?)(?P<host>[^'\"`\s,;]+)(?P=hq))?"
)
_CREATE_USER = re.compile(
    rf"^\s*create\s+user\s+(?:if\s+not\s+exists\s+)?(?P<account>{_ACCOUNT.pattern})(?P<rest>.*?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)


@dataclass
class Sandbox:
    database: MySQLDatabase
    token: str
    school_db: str
    test28: str
    runner: str
    runner_password: str

    def renamed(self, found: sql.Statement, *names: str) -> str:
        """The statement with school_db and test28 replaced by this test's names; each of `names` must be in it."""
        code = code_of(found.text)
        for name in names:
            if not re.search(rf"\b{name}\b", code):
                kind, kind_zh = NAMES[name]
                raise StudentError(
                    say(
                        f"`{found.name}` does not name the {kind} {name}: use the names the task gives "
                        f"(the checks rename {name} to a name of their own while they run)",
                        f"`{found.name}` 没有写出{kind_zh} {name}：请使用题目给出的名字"
                        f"（检查程序运行时会把 {name} 换成自己的名字）",
                    ),
                    found.file,
                    found.line,
                )
        text = re.sub(r"\bschool_db\b", self.school_db, found.text)
        return re.sub(r"\btest28\b", self.test28, text)

    def check_create_user(self, found: sql.Statement, text: str) -> None:
        """`create user` runs as the administrator, so it may create this test's user and nothing else."""
        match = _CREATE_USER.match(code_of(text))
        rest = re.sub(_QUOTED, "''", match["rest"]) if match else ""
        if not match or "," in rest or "@" in rest:
            raise StudentError(
                say(
                    f"`{found.name}` should be one statement creating one user: "
                    "create user 'test28'@'%' identified by 'qwe123'",
                    f"`{found.name}` 应当是一条只创建一个用户的语句：create user 'test28'@'%' identified by 'qwe123'",
                ),
                found.file,
                found.line,
            )
        account = _ACCOUNT.match(match["account"])
        if account["user"] != self.test28:
            raise StudentError(
                say(
                    f"`{found.name}` creates the user {account['user']!r}; the task asks for 'test28'",
                    f"`{found.name}` 创建的用户是 {account['user']!r}；题目要求的是 'test28'",
                ),
                found.file,
                found.line,
            )
        if account["host"] not in (None, "%"):
            raise StudentError(
                say(
                    f"`{found.name}` creates 'test28'@'{account['host']}', who may log in only from "
                    f"{account['host']}; the task asks for 'test28'@'%' (any host)",
                    f"`{found.name}` 创建的是 'test28'@'{account['host']}'，这个用户只能从 {account['host']} 登录；"
                    "题目要求的是 'test28'@'%'（可以从任何主机登录）",
                ),
                found.file,
                found.line,
            )

    def connect(self, user: str, password: str, database: str | None = None):
        parts = urlsplit(self.database.url)
        return pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=user,
            password=password,
            database=database,
            charset="utf8mb4",
            init_command=f"SET SESSION sql_mode='{MYSQL_SQL_MODE}'",
            autocommit=True,
            ssl_disabled=True,
            connect_timeout=5,
            read_timeout=10,
        )

    def admin(self):
        parts = urlsplit(self.database.url)
        return self.connect(unquote(parts.username or "root"), unquote(parts.password or ""))

    def as_runner(self):
        """The account that runs the student's create/drop database and grant: rights on school_db only."""
        return self.connect(self.runner, self.runner_password)

    def database_exists(self) -> bool:
        admin = self.admin()
        try:
            with admin.cursor() as cursor:
                cursor.execute(
                    "select SCHEMA_NAME as schema_name from information_schema.SCHEMATA where SCHEMA_NAME = %s",
                    (self.school_db,),
                )
                return cursor.fetchone() is not None
        finally:
            admin.close()

    def denied(self, what: str, what_zh: str) -> str:
        """Why the server refused the statement: `what` the runner may do, in English and in Chinese."""
        return say(
            f"the checks run this statement as an account that may only {what} the database school_db "
            f"(renamed {self.school_db} while checking) and nothing else on the server",
            f"检查程序以一个只能对数据库 school_db（检查时换名为 {self.school_db}）{what_zh}、"
            "除此之外不能操作服务器上任何东西的账号来执行这条语句",
        )


def open_sandbox(database: MySQLDatabase) -> Sandbox:
    token = secrets.token_hex(4)
    sandbox = Sandbox(
        database=database,
        token=token,
        school_db=f"course{token}school",  # no "_": in grant, _ is a wildcard
        test28=f"test28_{token}",
        runner=f"runner_{token}",
        runner_password=secrets.token_urlsafe(12),
    )
    admin = sandbox.admin()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE USER '{sandbox.runner}'@'%' IDENTIFIED BY '{sandbox.runner_password}'")
            cursor.execute(f"GRANT ALL ON `{sandbox.school_db}`.* TO '{sandbox.runner}'@'%' WITH GRANT OPTION")
    except BaseException:
        close_sandbox(sandbox)
        raise
    finally:
        admin.close()
    return sandbox


def close_sandbox(sandbox: Sandbox) -> None:
    admin = sandbox.admin()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{sandbox.school_db}`")
            cursor.execute(f"DROP USER IF EXISTS '{sandbox.test28}'@'%'")
            cursor.execute(f"DROP USER IF EXISTS '{sandbox.runner}'@'%'")
    finally:
        admin.close()
