"""Sessions in the database, as Django keeps them, read with plain SQL.

Every page of a booking reads its session (the details waiting for "check your answers",
the bookings this browser made); the ORM took three times as long to build that query as
the database to run it.
"""

from django.contrib.sessions.backends import db
from django.utils import timezone


class SessionStore(db.SessionStore):
    """Django's database session store; only the read of a session is plain SQL."""

    def _get_session_from_db(self):
        table = self.model._meta.db_table
        found = list(
            self.model.objects.raw(
                f"SELECT session_key, session_data, expire_date FROM {table}"  # noqa: S608 - the model's table
                " WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
        )
        if not found:
            self._session_key = None
            return None
        return found[0]
