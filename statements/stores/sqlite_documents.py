"""The document store on SQLite: one table, each write one immediate transaction."""

from __future__ import annotations

import sqlite3

from statements.documents import Document, DocumentScope, Mutation
from statements.stores.sqlite_db import SqliteDatabase, transaction

_KEY = "kind=? AND activity=? AND agent=? AND registration=?"


def _schema_v1(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE documents (
            kind TEXT NOT NULL,
            activity TEXT NOT NULL,
            agent TEXT NOT NULL,
            registration TEXT NOT NULL,
            doc_id TEXT NOT NULL,
            content BLOB NOT NULL,
            content_type TEXT NOT NULL,
            etag TEXT NOT NULL,
            updated INTEGER NOT NULL,
            PRIMARY KEY (kind, activity, agent, registration, doc_id)
        ) WITHOUT ROWID""")


def _scope(scope: DocumentScope) -> tuple[str, str, str, str]:
    return scope.kind.value, scope.activity, scope.agent, scope.registration


def _read(conn: sqlite3.Connection, scope: DocumentScope, document_id: str) -> Document | None:
    row = conn.execute(
        f"SELECT content, content_type, etag, updated FROM documents WHERE {_KEY} AND doc_id=?",
        (*_scope(scope), document_id)).fetchone()
    return Document(*row) if row else None


class SqliteDocumentStore:
    """DocumentStore on a SqliteDatabase."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def open(self) -> None:
        """Create or upgrade the schema."""
        await self._db.migrate([_schema_v1], name="documents")

    async def get(self, scope: DocumentScope, document_id: str) -> Document | None:
        return await self._db.read(lambda conn: _read(conn, scope, document_id))

    async def ids(self, scope: DocumentScope, since_ms: int | None) -> tuple[list[str], int | None]:
        def run(conn: sqlite3.Connection) -> tuple[list[str], int | None]:
            rows = conn.execute(
                f"SELECT doc_id, updated FROM documents WHERE {_KEY} AND updated>? "
                "ORDER BY doc_id", (*_scope(scope), -1 if since_ms is None else since_ms),
            ).fetchall()
            return [row[0] for row in rows], max((row[1] for row in rows), default=None)

        return await self._db.read(run)

    async def mutate(self, scope: DocumentScope, document_id: str, mutation: Mutation) -> None:
        def run(conn: sqlite3.Connection) -> None:
            new = mutation(_read(conn, scope, document_id))
            if new is None:
                conn.execute(f"DELETE FROM documents WHERE {_KEY} AND doc_id=?",
                             (*_scope(scope), document_id))
                return
            conn.execute(
                "INSERT INTO documents(kind, activity, agent, registration, doc_id, content,"
                " content_type, etag, updated) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE"
                " SET content=excluded.content, content_type=excluded.content_type,"
                " etag=excluded.etag, updated=excluded.updated",
                (*_scope(scope), document_id, new.content, new.content_type, new.etag,
                 new.updated_ms))

        await self._db.write(lambda conn: transaction(conn, run))

    async def delete_all(self, scope: DocumentScope) -> None:
        await self._db.write(lambda conn: transaction(conn, lambda c: c.execute(
            f"DELETE FROM documents WHERE {_KEY}", _scope(scope))))
