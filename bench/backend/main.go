// Command backend is a minimal HTTP/1.1 backend answering a short body, for bench/proxy.sh.
package main

import (
	"flag"
	"io"
	"net/http"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18080", "address to serve on")
	flag.Parse()
	body := "hello from the backend\n"
	http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, body)
	}))
}
