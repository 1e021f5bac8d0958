"""The fast path to the database: statements compiled once and run on the DB-API cursor
(`prepared`), and ids and instants read as the text a response carries (`json_text`).

Only the write path and the record, feed and export readers use it; everything else
reads through SQLAlchemy. Nothing here imports an HTTP module."""
