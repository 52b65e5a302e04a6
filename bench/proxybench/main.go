// Command proxybench serves pyship's proxy alone in front of one backend, for bench/proxy.sh.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/pyship/pyship/internal/local/proxy"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18081", "address to serve on")
	backend := flag.String("backend", "127.0.0.1:18080", "backend address")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	tlsListen := flag.String("tls-listen", "", "also serve HTTPS (and HTTP/2) here, with -tls-cert and -tls-key, for the host names localhost and 127.0.0.1")
	tlsCert := flag.String("tls-cert", "", "certificate file (PEM)")
	tlsKey := flag.String("tls-key", "", "key file (PEM)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	debug.SetGCPercent(400) // as `pyship agent` does
	p := proxy.New(proxy.Options{})
	p.AddBackend("b1", "r1", *backend)
	if err := p.SetWeights(map[string]int{"r1": 100}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *tlsListen != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		tln, err := net.Listen("tcp", *tlsListen)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		hr := &proxy.HostRouter{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
		hr.Set("localhost", p)
		hr.Set("127.0.0.1", p)
		go hr.Serve(ctx, tln, 5*time.Second, slog.New(slog.DiscardHandler))
	}
	if err := p.Serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}
