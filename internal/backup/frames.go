package backup

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// frameWriter compresses its input as a sequence of independent zstd frames of segment bytes,
// workers at a time, and writes them in order: a zstd stream any decoder reads, compressed on
// several cores (one streaming encoder uses one), in memory bounded by about
// (workers+1) × 2 × segment.
type frameWriter struct {
	w     io.Writer
	enc   *zstd.Encoder
	size  int
	buf   []byte
	free  chan []byte
	outs  chan []byte
	order chan chan []byte
	done  chan struct{}

	mu  sync.Mutex
	err error
}

func newFrameWriter(w io.Writer, workers, segment int) (*frameWriter, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(workers),
		zstd.WithWindowSize(segment), zstd.WithEncoderCRC(true))
	if err != nil {
		return nil, err
	}
	f := &frameWriter{w: w, enc: enc, size: segment, free: make(chan []byte, workers+1), outs: make(chan []byte, workers+2),
		order: make(chan chan []byte, workers), done: make(chan struct{})}
	for range workers + 1 {
		f.free <- nil
	}
	for range workers + 2 {
		f.outs <- nil
	}
	go f.writeLoop()
	return f, nil
}

func (f *frameWriter) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// writeLoop writes the compressed frames in input order.
func (f *frameWriter) writeLoop() {
	defer close(f.done)
	for res := range f.order {
		out := <-res
		if f.failed() == nil {
			if _, err := f.w.Write(out); err != nil {
				f.mu.Lock()
				f.err = err
				f.mu.Unlock()
			}
		}
		f.outs <- out[:0]
	}
}

func (f *frameWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if err := f.failed(); err != nil {
			return 0, err
		}
		if f.buf == nil {
			b := <-f.free
			if b == nil {
				b = make([]byte, 0, f.size)
			}
			f.buf = b[:0]
		}
		k := copy(f.buf[len(f.buf):f.size], p)
		f.buf, p = f.buf[:len(f.buf)+k], p[k:]
		if len(f.buf) == f.size {
			f.send()
		}
	}
	return n, nil
}

func (f *frameWriter) send() {
	in := f.buf
	f.buf = nil
	res := make(chan []byte, 1)
	f.order <- res
	go func() {
		dst := <-f.outs
		if dst == nil {
			dst = make([]byte, 0, f.size+f.size/64+1024) // room for incompressible input
		}
		out := f.enc.EncodeAll(in, dst)
		f.free <- in
		res <- out
	}()
}

// Close compresses what is left and waits for every frame to be written.
func (f *frameWriter) Close() error {
	if len(f.buf) > 0 {
		f.send()
	}
	close(f.order)
	<-f.done
	return f.failed()
}
