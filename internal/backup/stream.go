package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
)

// counter hashes and counts the bytes written through it.
type counter struct {
	h hash.Hash
	n int64
}

func newCounter() *counter { return &counter{h: sha256.New()} }

func (c *counter) Write(p []byte) (int, error) {
	c.h.Write(p)
	c.n += int64(len(p))
	return len(p), nil
}

func (c *counter) sum() string { return hex.EncodeToString(c.h.Sum(nil)) }

// encryptTo streams what produce writes through zstd and age into ow, recording sizes and
// hashes of the plaintext and the ciphertext in rec.
func encryptTo(ctx context.Context, ow io.Writer, recipients []age.Recipient, rec *SourceRecord, produce func(w io.Writer) error) error {
	cipher := newCounter()
	aw, err := age.Encrypt(io.MultiWriter(ow, cipher), recipients...)
	if err != nil {
		return fmt.Errorf("starting encryption: %w", err)
	}
	zw, err := newFrameWriter(aw, 2, 1<<20)
	if err != nil {
		return err
	}
	plain := newCounter()
	if err := produce(io.MultiWriter(zw, plain)); err != nil {
		zw.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compressing: %w", err)
	}
	if err := aw.Close(); err != nil {
		return fmt.Errorf("encrypting: %w", err)
	}
	rec.PlainSize, rec.PlainSHA256 = plain.n, plain.sum()
	rec.CipherSize, rec.CipherSHA256 = cipher.n, cipher.sum()
	return ctx.Err()
}

// decryptFrom streams the object of rec from store through age and zstd into consume, then
// checks every byte was read and both hashes and sizes match the manifest. consume must read
// until EOF or return an error; consume only ever sees authenticated plaintext (age checks
// each 64 KiB chunk), but its result counts only if decryptFrom returns nil. Reading stops
// as soon as the ciphertext or the plaintext passes the size the manifest gives it.
func decryptFrom(ctx context.Context, store Store, key string, rec SourceRecord, recipients []string, ids []age.Identity, consume func(r io.Reader) error) error {
	rc, _, err := store.Open(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	body := readAhead(rc, 4, 1<<20)
	defer body.Close()
	return decryptStream(body, key, rec, recipients, ids, consume)
}

// decryptStream is decryptFrom on a stream already open.
func decryptStream(body io.Reader, key string, rec SourceRecord, recipients []string, ids []age.Identity, consume func(r io.Reader) error) error {
	cipher := newCounter()
	cbody := &sizeGuard{r: body, max: rec.CipherSize, what: "stored object", key: key}
	ar, err := age.Decrypt(io.TeeReader(cbody, cipher), ids...)
	if err != nil {
		if cbody.err != nil {
			return cbody.err
		}
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return fmt.Errorf("decrypting %s: %w: the identity file holds none of the keys it was encrypted to (%s); pass the identity file that belongs to one of them", key, ErrWrongKey, strings.Join(recipients, ", "))
		}
		return fmt.Errorf("decrypting %s: %w: %v", key, ErrCorrupt, err)
	}
	// pyship writes 1 MiB windows (4 MiB before frameWriter): a larger one is not pyship's,
	// and would only make decoding take memory.
	zr, err := zstd.NewReader(ar, zstd.WithDecoderConcurrency(2), zstd.WithDecoderMaxWindow(maxWindow))
	if err != nil {
		return fmt.Errorf("decompressing %s: %w: %v", key, ErrCorrupt, err)
	}
	defer zr.Close()
	plain := newCounter()
	tr := &errTagReader{r: io.TeeReader(&sizeGuard{r: zr, max: rec.PlainSize, what: "plaintext", key: key}, plain), key: key}
	if err := consume(tr); err != nil {
		if tr.err != nil {
			return tr.err
		}
		return err
	}
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return tr.err
	}
	if _, err := io.Copy(io.Discard, io.TeeReader(cbody, cipher)); err != nil {
		if cbody.err != nil {
			return cbody.err
		}
		return fmt.Errorf("reading %s: %w", key, err)
	}
	switch {
	case cipher.n != rec.CipherSize || cipher.sum() != rec.CipherSHA256:
		return fmt.Errorf("checking %s: %w: stored object has %d bytes and sha256 %s, the manifest says %d bytes and %s", key, ErrCorrupt, cipher.n, cipher.sum(), rec.CipherSize, rec.CipherSHA256)
	case plain.n != rec.PlainSize || plain.sum() != rec.PlainSHA256:
		return fmt.Errorf("checking %s: %w: plaintext has %d bytes and sha256 %s, the manifest says %d bytes and %s", key, ErrCorrupt, plain.n, plain.sum(), rec.PlainSize, rec.PlainSHA256)
	}
	return nil
}

// maxWindow is the largest zstd window a backup may use.
const maxWindow = 8 << 20

// sizeGuard fails reads once more than max bytes came through: a stream that outgrows what the
// manifest says is refused at that point, not after it has been expanded to the end. It
// never reads more than one byte past max.
type sizeGuard struct {
	r         io.Reader
	n, max    int64
	what, key string
	err       error
}

func (g *sizeGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if room := g.max - g.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	if g.n > g.max {
		g.err = fmt.Errorf("reading %s: %w: the %s passes the %d bytes the manifest gives it", g.key, ErrCorrupt, g.what, g.max)
		return 0, g.err
	}
	return n, err
}

// errTagReader remembers the first read error of the decryption chain, marked as corruption,
// so a consumer's own error message does not hide it.
type errTagReader struct {
	r   io.Reader
	key string
	err error
}

func (t *errTagReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		if errors.Is(err, ErrUnreachable) || errors.Is(err, ErrCorrupt) {
			t.err = err
		} else {
			t.err = fmt.Errorf("reading %s: %w: %v (truncated or modified object)", t.key, ErrCorrupt, err)
		}
		err = t.err
	}
	return n, err
}

// readAhead reads r in its own goroutine into at most n chunks of size bytes, so that the
// download overlaps decryption and the consumer; memory stays n×size.
func readAhead(r io.Reader, n, size int) io.ReadCloser {
	ra := &aheadReader{full: make(chan []byte, n), free: make(chan []byte, n), done: make(chan struct{})}
	for range n {
		ra.free <- make([]byte, size)
	}
	go func() {
		defer close(ra.full)
		for {
			var buf []byte
			select {
			case buf = <-ra.free:
			case <-ra.done:
				return
			}
			m, err := io.ReadFull(r, buf)
			if m > 0 {
				select {
				case ra.full <- buf[:m]:
				case <-ra.done:
					return
				}
			}
			if err != nil {
				if err == io.ErrUnexpectedEOF {
					err = io.EOF
				}
				ra.err = err
				return
			}
		}
	}()
	return ra
}

type aheadReader struct {
	full, free chan []byte
	done       chan struct{}
	cur, buf   []byte
	err        error // set before full is closed
	closed     bool
}

func (a *aheadReader) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.buf != nil {
			a.free <- a.buf[:cap(a.buf)]
			a.buf = nil
		}
		b, ok := <-a.full
		if !ok {
			return 0, a.err
		}
		a.buf, a.cur = b, b
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

func (a *aheadReader) Close() error {
	if !a.closed {
		a.closed = true
		close(a.done) // the goroutine stops; a read in progress ends when the body is closed
	}
	return nil
}
