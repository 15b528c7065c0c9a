-- A capture is stored chunk by chunk, each chunk its own short statement, so
-- that a large upload never holds a connection (on the embedded database, the
-- only one) for long. Until its last chunk is in, a capture is incomplete and
-- no reader sees it; one whose upload failed is deleted with its chunks.
ALTER TABLE pcaps ADD COLUMN complete boolean NOT NULL DEFAULT true;
