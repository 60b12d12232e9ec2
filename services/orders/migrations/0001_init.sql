-- The orders table. `nox -s db` applies the files of this folder in order, each once and
-- in a transaction (recorded in lambdapress_migrations); change the schema with a new file
-- (0002_...sql), never by editing an applied one. A file that cannot run in a transaction
-- (CREATE INDEX CONCURRENTLY) starts with the line `-- lambdapress: no-transaction`.
CREATE TABLE orders (
    id text PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,  -- insertion order, for pages
    name text NOT NULL,
    description text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
