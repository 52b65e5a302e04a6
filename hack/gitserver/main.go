// Command gitserver serves the bare repositories under a folder on loopback for tests, with the
// real git doing the Git protocol: over smart HTTP by running `git http-backend` through
// net/http/cgi — plain HTTP without authentication, and HTTPS with basic authentication (a
// wrong user or password gets 401, as a real forge answers rejected credentials) — and over SSH
// (golang.org/x/crypto/ssh) running `git upload-pack` / `git receive-pack` for one authorized
// public key. With -ssh-dir it writes there, once, the server's host key, a client key
// (client_key, OpenSSH format), authorized_key and a known_hosts line for the address.
//
//	gitserver -root DIR -http ADDR -https ADDR -cert C -key K -user U -password P -ssh ADDR -ssh-dir DIR
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"net"
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
	sshAddr := flag.String("ssh", "", "SSH address (optional)")
	sshDir := flag.String("ssh-dir", "", "folder of the SSH keys (made when missing)")
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
	errs := make(chan error, 3)
	if *sshAddr != "" {
		cfg, err := sshConfig(*sshDir, *sshAddr)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", *sshAddr)
		if err != nil {
			return err
		}
		go func() { errs <- serveSSH(ln, cfg, *root, git) }()
	}
	go func() { errs <- http.ListenAndServe(*plain, backend("anonymous")) }()
	go func() { errs <- http.ListenAndServeTLS(*secure, *cert, *key, auth) }()
	return <-errs
}

// sshConfig loads (or makes) the host and client keys in dir and returns the server config
// accepting the client key only.
func sshConfig(dir, addr string) (*ssh.ServerConfig, error) {
	host, err := loadOrMakeKey(filepath.Join(dir, "host_key"))
	if err != nil {
		return nil, err
	}
	client, err := loadOrMakeKey(filepath.Join(dir, "client_key"))
	if err != nil {
		return nil, err
	}
	authorized := client.PublicKey()
	if err := os.WriteFile(filepath.Join(dir, "authorized_key"), ssh.MarshalAuthorizedKey(authorized), 0o644); err != nil {
		return nil, err
	}
	hostPort := strings.Replace(addr, "127.0.0.1:", "[127.0.0.1]:", 1)
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(hostPort+" "+string(ssh.MarshalAuthorizedKey(host.PublicKey()))), 0o644); err != nil {
		return nil, err
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(k.Marshal(), authorized.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("key not authorized")
	}}
	cfg.AddHostKey(host)
	return cfg, nil
}

func loadOrMakeKey(file string) (ssh.Signer, error) {
	if b, err := os.ReadFile(file); err == nil {
		return ssh.ParsePrivateKey(b)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(priv)
}

func serveSSH(ln net.Listener, cfg *ssh.ServerConfig, root, git string) error {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer nc.Close()
			_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
			if err != nil {
				return
			}
			go ssh.DiscardRequests(reqs)
			for nch := range chans {
				if nch.ChannelType() != "session" {
					_ = nch.Reject(ssh.UnknownChannelType, "session only")
					continue
				}
				ch, creqs, err := nch.Accept()
				if err != nil {
					continue
				}
				go session(ch, creqs, root, git)
			}
		}()
	}
}

// session runs one exec request: git-upload-pack or git-receive-pack of a repository below root.
func session(ch ssh.Channel, reqs <-chan *ssh.Request, root, git string) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			_ = req.Reply(req.Type == "env", nil)
			continue
		}
		var p struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &p); err != nil {
			_ = req.Reply(false, nil)
			return
		}
		verb, arg, _ := strings.Cut(p.Command, " ")
		repo := filepath.Join(root, filepath.Clean("/"+strings.Trim(arg, "'\"")))
		if (verb != "git-upload-pack" && verb != "git-receive-pack") || !strings.HasPrefix(repo, filepath.Clean(root)+"/") {
			_ = req.Reply(false, nil)
			return
		}
		_ = req.Reply(true, nil)
		cmd := exec.Command(git, strings.TrimPrefix(verb, "git-"), repo)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
		status := uint32(0)
		if err := cmd.Run(); err != nil {
			status = 1
		}
		_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}
