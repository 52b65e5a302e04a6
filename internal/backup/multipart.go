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
// concurrency+1 part buffers, so memory stays constant whatever the object's size.
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
		if w.cur == nil {
			select {
			case b := <-w.free:
				if b == nil {
					b = make([]byte, 0, w.partSize)
				}
				w.cur = b[:0]
			case <-w.ctx.Done():
				if err := w.failed(); err != nil {
					return n, err
				}
				return n, w.ctx.Err()
			}
		}
		c := copy(w.cur[len(w.cur):w.partSize], p)
		w.cur = w.cur[:len(w.cur)+c]
		p, n = p[c:], n+c
		if len(w.cur) == w.partSize {
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
