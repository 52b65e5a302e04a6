// Command gitserver serves the bare repositories under a folder over Git's smart HTTP protocol,
// by running the real `git http-backend` through net/http/cgi, on loopback for tests: plain
// HTTP without authentication, and HTTPS with basic authentication (a wrong user or password
// gets 401, as a real forge answers rejected credentials).
//
//	gitserver -root DIR -http 127.0.0.1:PORT -https 127.0.0.1:PORT -cert C -key K -user U -password P
package main

import (
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "gitserver: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	root := flag.String("root", "", "folder of bare repositories (NAME.git)")
	plain := flag.String("http", "", "plain HTTP address, no authentication")
	secure := flag.String("https", "", "HTTPS address, basic authentication")
	cert := flag.String("cert", "", "TLS certificate (PEM)")
	key := flag.String("key", "", "TLS key (PEM)")
	user := flag.String("user", "", "basic-auth user of the HTTPS listener")
	password := flag.String("password", "", "basic-auth password of the HTTPS listener")
	flag.Parse()
	if *root == "" || *plain == "" || *secure == "" || *user == "" || *password == "" {
		return errors.New("-root, -http, -https, -user and -password are required")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return err
	}
	backend := func(remoteUser string) http.Handler {
		return &cgi.Handler{
			Path: git,
			Args: []string{"http-backend"},
			Env: []string{
				"GIT_PROJECT_ROOT=" + *root,
				"GIT_HTTP_EXPORT_ALL=1",
				// http-backend enables receive-pack (push) for an authenticated user only.
				"REMOTE_USER=" + remoteUser,
				"GIT_CONFIG_NOSYSTEM=1",
				"HOME=" + *root,
			},
		}
	}
	auth := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(*user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(*password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="pyship-test"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend(u).ServeHTTP(w, r)
	})
	errs := make(chan error, 2)
	go func() { errs <- http.ListenAndServe(*plain, backend("anonymous")) }()
	go func() { errs <- http.ListenAndServeTLS(*secure, *cert, *key, auth) }()
	return <-errs
}
