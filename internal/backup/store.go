package backup

import (
	"context"
	"errors"
	"io"
	"time"
)

// Errors that callers branch on; the returned errors wrap them with what and where.
var (
	ErrBucketMissing = errors.New("bucket does not exist")
	ErrCredentials   = errors.New("credentials rejected")
	ErrNotFound      = errors.New("not found")
	ErrCorrupt       = errors.New("backup is corrupt")
	ErrWrongKey      = errors.New("identity does not match")
	ErrUnreachable   = errors.New("storage unreachable")
)

// Store is the object storage a backup lives in; S3Store is the implementation.
type Store interface {
	// Check fails with ErrBucketMissing, ErrCredentials or ErrUnreachable when the
	// destination cannot be used.
	Check(ctx context.Context) error
	// Create starts a streamed upload of key; nothing is visible until Commit.
	Create(ctx context.Context, key string) (ObjectWriter, error)
	// Put writes a small object whole.
	Put(ctx context.Context, key string, data []byte) error
	// Open reads key; a missing key is ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
	// List returns the objects under prefix, recursively, sorted by key.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// AbortUploads aborts the incomplete uploads under prefix started before before and
	// returns their keys.
	AbortUploads(ctx context.Context, prefix string, before time.Time) ([]string, error)
}

// ObjectWriter is a streamed upload: Write, then Commit or Abort.
type ObjectWriter interface {
	io.Writer
	Commit(ctx context.Context) error
	Abort(ctx context.Context) error
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key  string
	Size int64
}
