-- Documents ingested from files were keyed by their absolute path, which every search result
-- then showed (the server's layout). Sources are now `files/<root>/<path below it>`; rows stored
-- before are rewritten to `files/<folder>/<file name>` (a clash keeps the old row, which
-- `public_source` still hides when shown, until that file is ingested again).
UPDATE documents AS d
SET source = 'files/' || substring(d.source FROM '([^/]+/[^/]+)$')
WHERE d.origin = 'file'
  AND d.source LIKE '/%'
  AND substring(d.source FROM '([^/]+/[^/]+)$') IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM documents AS o
      WHERE o.source = 'files/' || substring(d.source FROM '([^/]+/[^/]+)$')
  );
