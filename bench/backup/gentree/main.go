// Command gentree writes a reproducible tree of mixed files (text, logs, JSON, random binary,
// small and large, with symlinks) of about the given total size, for the backup benchmark.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

func main() {
	size := flag.Int64("size", 1<<30, "total bytes")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: gentree [-size BYTES] DIR")
		os.Exit(2)
	}
	if err := gen(flag.Arg(0), *size); err != nil {
		fmt.Fprintln(os.Stderr, "gentree:", err)
		os.Exit(1)
	}
}

func gen(root string, total int64) error {
	rng := rand.New(rand.NewPCG(42, 7))
	words := []string{"request", "user", "order", "status", "ok", "error", "timeout", "GET", "POST", "/api/v1/items", "200", "500", "latency_ms"}
	var written int64
	for i := 0; written < total; i++ {
		dir := filepath.Join(root, fmt.Sprintf("d%02d", i%40), fmt.Sprintf("s%02d", i%13))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		var n int64
		switch {
		case i%200 == 0:
			n = 20<<20 + rng.Int64N(30<<20) // big files
		case i%10 == 0:
			n = 256<<10 + rng.Int64N(2<<20)
		default:
			n = 512 + rng.Int64N(32<<10) // many small files
		}
		n = min(n, total-written)
		p := filepath.Join(dir, fmt.Sprintf("f%06d", i))
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		if i%3 == 0 { // incompressible (media, compressed archives)
			buf := make([]byte, 64<<10)
			for left := n; left > 0; left -= int64(len(buf)) {
				for j := 0; j < len(buf); j += 8 {
					v := rng.Uint64()
					for k := 0; k < 8; k++ {
						buf[j+k] = byte(v >> (8 * k))
					}
				}
				w.Write(buf[:min(int64(len(buf)), left)])
			}
		} else { // logs / JSON / text
			var c int64
			for c < n {
				line := fmt.Sprintf("{\"t\":%d,\"%s\":\"%s\",\"v\":%d}\n", 1700000000+c, words[rng.IntN(len(words))], words[rng.IntN(len(words))], rng.IntN(100000))
				if c+int64(len(line)) > n {
					line = line[:n-c]
				}
				w.WriteString(line)
				c += int64(len(line))
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if i%500 == 0 {
			_ = os.Symlink(filepath.Base(p), p+".link")
		}
		written += n
	}
	return nil
}
