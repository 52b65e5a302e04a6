package backup

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
)

// multipartWriter streams an object as S3 multipart parts from a fixed pool of
// concurrency+1 part buffers, so memory stays constant up to growPartsEvery parts (5 GB at
// the default part size); past that, parts grow (partSizeFor) so that S3's limit of 10,000
// parts per object is not the end of a large backup.

type multipartWriter struct {
	s        *S3Store
	ctx      context.Context
	cancel   context.CancelFunc
	key, id  string
	partSize int

	free chan []byte
	cur  []byte
	next int
	wg   sync.WaitGroup

	mu    sync.Mutex
	parts []minio.CompletePart
	err   error
}

// Create implements Store: it starts a multipart upload of key.
func (s *S3Store) Create(ctx context.Context, key string) (ObjectWriter, error) {
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, key, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return nil, s.wrap(err, "starting the upload of", key)
	}
	wctx, cancel := context.WithCancel(ctx)
	w := &multipartWriter{s: s, ctx: wctx, cancel: cancel, key: key, id: id, partSize: s.partSize,
		free: make(chan []byte, s.concurrency+1)}
	for range s.concurrency + 1 {
		w.free <- nil // buffers are allocated on first use
	}
	return w, nil
}

func (w *multipartWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Write copies p into part buffers, sending each full one to be uploaded.
func (w *multipartWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if err := w.failed(); err != nil {
			return n, err
		}
		size := partSizeFor(w.partSize, w.next)
		if w.cur == nil {
			select {
			case b := <-w.free:
				if cap(b) < size {
					b = make([]byte, 0, size)
				}
				w.cur = b[:0]
			case <-w.ctx.Done():
				if err := w.failed(); err != nil {
					return n, err
				}
				return n, w.ctx.Err()
			}
		}
		c := copy(w.cur[len(w.cur):size], p)
		w.cur = w.cur[:len(w.cur)+c]
		p, n = p[c:], n+c
		if len(w.cur) == size {
			w.send()
		}
	}
	return n, nil
}

func (w *multipartWriter) send() {
	buf := w.cur
	w.cur = nil
	w.next++
	num := w.next
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		part, err := w.s.core.PutObjectPart(w.ctx, w.s.bucket, w.key, w.id, num, bytes.NewReader(buf), int64(len(buf)),
			minio.PutObjectPartOptions{DisableContentSha256: true})
		w.mu.Lock()
		if err != nil && w.err == nil {
			w.err = w.s.wrap(err, fmt.Sprintf("uploading part %d of", num), w.key)
			w.cancel()
		}
		if err == nil {
			w.parts = append(w.parts, minio.CompletePart{PartNumber: num, ETag: part.ETag})
		}
		w.mu.Unlock()
		if cap(buf) > 0 {
			w.free <- buf
		}
	}()
}

// Commit uploads the last part and completes the upload; on failure the upload is aborted.
func (w *multipartWriter) Commit(ctx context.Context) error {
	if w.cur == nil && w.next == 0 {
		w.cur = []byte{} // an empty object still needs one (empty) part
	}
	if w.cur != nil && (len(w.cur) > 0 || w.next == 0) {
		w.send()
	}
	w.wg.Wait()
	if err := w.failed(); err != nil {
		return w.abortAfter(ctx, err)
	}
	sort.Slice(w.parts, func(i, j int) bool { return w.parts[i].PartNumber < w.parts[j].PartNumber })
	if _, err := w.s.core.CompleteMultipartUpload(ctx, w.s.bucket, w.key, w.id, w.parts, minio.PutObjectOptions{}); err != nil {
		return w.abortAfter(ctx, w.s.wrap(err, "completing the upload of", w.key))
	}
	w.cancel()
	return nil
}

// Abort stops the upload and removes its parts.
func (w *multipartWriter) Abort(ctx context.Context) error {
	w.cancel()
	w.wg.Wait()
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := w.s.core.AbortMultipartUpload(actx, w.s.bucket, w.key, w.id); err != nil {
		return w.s.wrap(err, "aborting the upload of", w.key)
	}
	return nil
}

func (w *multipartWriter) abortAfter(ctx context.Context, err error) error {
	if aerr := w.Abort(ctx); aerr != nil {
		return fmt.Errorf("%w (and the partial upload could not be aborted: %v; the next backup aborts it)", err, aerr)
	}
	return err
}

// growPartsEvery is how many parts go by before the part size doubles; maxPartSize caps it.
// With 5 MiB parts an object reaches about 780 GB in S3's 10,000 parts, with at most
// (concurrency+1) × 128 MiB of part buffers.
const (
	growPartsEvery = 1000
	maxPartSize    = 128 << 20
)

// partSizeFor is the size of the part after the first sent ones: base for the first
// growPartsEvery parts, then doubling every growPartsEvery parts, at most maxPartSize (never
// below base).
func partSizeFor(base, sent int) int {
	size := base
	for i := sent / growPartsEvery; i > 0 && size < maxPartSize; i-- {
		size *= 2
	}
	return max(base, min(size, maxPartSize))
}
