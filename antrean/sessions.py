"""Sessions in the database, as Django keeps them, read and written with plain SQL.

Every page of a booking reads its session (the details waiting for "check your answers",
the bookings this browser made), and the booking form and the booking write it: the ORM
took longer to build those statements than the database to run them, and each write was
three or four round trips (a check that a new key is unused, BEGIN, the write, COMMIT)
where one statement is its own transaction.
"""

from contextlib import nullcontext

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string


class SessionStore(db.SessionStore):
    """Django's database session store, each read and write one plain statement."""

    def load(self):
        """Return the session's data: {} (and no key) once it has expired or is gone."""
        connection = connections[router.db_for_read(self.model)]
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",  # noqa: S608 - the model's table
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            found = cursor.fetchone()
        if found is None:
            self._session_key = None
            return {}
        return self.decode(found[0])

    def _get_new_session_key(self):
        # No look first: 32 characters of 36 do not clash, and if they did the INSERT would
        # refuse the key and create() would draw another (CreateError).
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create=False):
        """Insert a new session (must_create) or update this one, in one statement."""
        if self.session_key is None:
            return self.create()
        data = self.encode(self._get_session(no_load=must_create))
        using = router.db_for_write(self.model)
        expires = connections[using].ops.adapt_datetimefield_value(self.get_expiry_date())
        table = connections[using].ops.quote_name(self.model._meta.db_table)
        if must_create:
            sql = (
                f"INSERT INTO {table} (session_data, expire_date, session_key) VALUES (%s, %s, %s)"  # noqa: S608 - the model's table
            )
        else:
            sql = f"UPDATE {table} SET session_data = %s, expire_date = %s WHERE session_key = %s"  # noqa: S608 - the model's table
        # Alone, a statement is its own transaction. Inside another (a test, a view that
        # writes in one), a savepoint keeps a refused key from spoiling the rest.
        own = (
            transaction.atomic(using=using) if connections[using].in_atomic_block else nullcontext()
        )
        try:
            with own, connections[using].cursor() as cursor:
                cursor.execute(sql, [data, expires, self._session_key])
                written = cursor.rowcount
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        if not written:
            raise UpdateError  # the session was deleted meanwhile (a logout elsewhere)
