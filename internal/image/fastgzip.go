package image

import (
	"bufio"
	"io"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
)

// fastImage is img whose gzip layers decompress with klauspost/compress, about twice as fast
// as the standard library when reading a base image's filesystem.
type fastImage struct{ v1.Image }

func (f fastImage) Layers() ([]v1.Layer, error) {
	ls, err := f.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = fastLayer{l}
	}
	return out, nil
}

type fastLayer struct{ v1.Layer }

func (l fastLayer) Uncompressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, 1<<16)
	magic, err := br.Peek(2)
	if err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		rc.Close()
		return l.Layer.Uncompressed() // uncompressed or zstd: the library knows best
	}
	gz, err := gzip.NewReader(br)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{gz, rc}, nil
}
