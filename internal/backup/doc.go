// Package backup takes encrypted, verified backups of folders, PostgreSQL databases and SQLite files to S3-compatible storage as one constant-memory stream (tar → zstd → age → multipart upload), and lists, verifies, restores and prunes them.
package backup
