// Command proxybench serves pyship's proxy alone in front of one backend, for bench/proxy.sh.
package main

import (
	"context"
	"flag"
	"fmt"
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
		// The shared edge, as the agent runs it for apps with [edge] tls = "files".
		tln, err := net.Listen("tcp", *tlsListen)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		hln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		e := proxy.NewEdge(proxy.EdgeOptions{})
		if err := e.SetApp("bench", proxy.EdgeApp{Hosts: []string{"localhost", "127.0.0.1"}, TLS: proxy.TLSFiles, CertFile: *tlsCert, KeyFile: *tlsKey}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		ep := e.App("bench")
		ep.AddBackend("b1", "r1", *backend)
		_ = ep.SetWeights(map[string]int{"r1": 100})
		go e.Serve(ctx, hln, tln, 5*time.Second)
	}
	if err := p.Serve(ctx, ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}
