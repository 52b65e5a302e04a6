package gitops

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// Credentials are where pushes get their credentials, in the usual places: for HTTPS, the
// URL's user:password, else PYSHIP_GIT_USERNAME/PYSHIP_GIT_PASSWORD, else the credential
// store of `git credential-store` (~/.git-credentials, $XDG_CONFIG_HOME/git/credentials), else
// ~/.netrc; for SSH, the ssh-agent at $SSH_AUTH_SOCK, else ~/.ssh/id_ed25519, id_ecdsa or
// id_rsa, with the host checked against $SSH_KNOWN_HOSTS or ~/.ssh/known_hosts. $GIT_SSL_CAINFO adds a CA
// certificate to trust (SSL_CERT_FILE is honoured too).
type Credentials struct {
	// Home is the user's home folder; Getenv reads the environment (os.Getenv when nil).
	Home   string
	Getenv func(string) string
}

func (c Credentials) env(k string) string {
	if c.Getenv == nil {
		return os.Getenv(k)
	}
	return c.Getenv(k)
}

// transportOptions are the auth method and CA bundle for a repository URL, and a phrase saying
// where the credentials came from (for errors).
type transportOptions struct {
	auth     transport.AuthMethod
	caBundle []byte
	source   string
}

func (c Credentials) forURL(raw string) (transportOptions, error) {
	var t transportOptions
	if f := c.env("GIT_SSL_CAINFO"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return t, fmt.Errorf("reading $GIT_SSL_CAINFO: %w", err)
		}
		t.caBundle = b
	}
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		return t, fmt.Errorf("repository URL %q: %w", Redact(raw), err)
	}
	switch ep.Protocol {
	case "http", "https":
		if ep.User != "" {
			t.auth = &githttp.BasicAuth{Username: ep.User, Password: ep.Password}
			t.source = "the URL's user:password"
			return t, nil
		}
		if u, p := c.env("PYSHIP_GIT_USERNAME"), c.env("PYSHIP_GIT_PASSWORD"); p != "" {
			if u == "" {
				u = "git"
			}
			t.auth = &githttp.BasicAuth{Username: u, Password: p}
			t.source = "$PYSHIP_GIT_USERNAME/$PYSHIP_GIT_PASSWORD"
			return t, nil
		}
		for _, f := range c.credentialStores() {
			if u, p, ok := lookupCredentialStore(f, ep); ok {
				t.auth = &githttp.BasicAuth{Username: u, Password: p}
				t.source = f
				return t, nil
			}
		}
		if c.Home != "" {
			f := filepath.Join(c.Home, ".netrc")
			if u, p, ok := lookupNetrc(f, ep.Host); ok {
				t.auth = &githttp.BasicAuth{Username: u, Password: p}
				t.source = f
				return t, nil
			}
		}
		t.source = "no credentials (none in the URL, $PYSHIP_GIT_USERNAME/$PYSHIP_GIT_PASSWORD, ~/.git-credentials or ~/.netrc)"
		return t, nil
	case "ssh":
		user := ep.User
		if user == "" {
			user = gitssh.DefaultUsername
		}
		known, err := c.knownHosts()
		if err != nil {
			return t, err
		}
		if c.env("SSH_AUTH_SOCK") != "" {
			a, err := gitssh.NewSSHAgentAuth(user)
			if err != nil {
				return t, fmt.Errorf("connecting to the ssh-agent at $SSH_AUTH_SOCK: %w", err)
			}
			a.HostKeyCallback = known
			t.auth, t.source = a, "the ssh-agent at $SSH_AUTH_SOCK"
			return t, nil
		}
		for _, k := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			f := filepath.Join(c.Home, ".ssh", k)
			if _, err := os.Stat(f); err != nil {
				continue
			}
			a, err := gitssh.NewPublicKeysFromFile(user, f, "")
			if err != nil {
				return t, fmt.Errorf("reading the SSH key %s: %w (a key with a passphrase needs the ssh-agent)", f, err)
			}
			a.HostKeyCallback = known
			t.auth, t.source = a, f
			return t, nil
		}
		return t, fmt.Errorf("no SSH credentials for %s: start an ssh-agent with your key (SSH_AUTH_SOCK) or put it in ~/.ssh/id_ed25519", Redact(raw))
	}
	t.source = "no credentials (" + ep.Protocol + ")"
	return t, nil
}

// knownHosts checks SSH host keys against $SSH_KNOWN_HOSTS (a list of files), else
// ~/.ssh/known_hosts; an unknown host is refused.
func (c Credentials) knownHosts() (ssh.HostKeyCallback, error) {
	files := filepath.SplitList(c.env("SSH_KNOWN_HOSTS"))
	if len(files) == 0 {
		files = []string{filepath.Join(c.Home, ".ssh", "known_hosts")}
	}
	cb, err := gitssh.NewKnownHostsCallback(files...)
	if err != nil {
		return nil, fmt.Errorf("reading the SSH known hosts %s: %w (add the server's key with ssh-keyscan, or set $SSH_KNOWN_HOSTS)", strings.Join(files, ", "), err)
	}
	return cb, nil
}

func (c Credentials) credentialStores() []string {
	var files []string
	if c.Home != "" {
		files = append(files, filepath.Join(c.Home, ".git-credentials"))
	}
	xdg := c.env("XDG_CONFIG_HOME")
	if xdg == "" && c.Home != "" {
		xdg = filepath.Join(c.Home, ".config")
	}
	if xdg != "" {
		files = append(files, filepath.Join(xdg, "git", "credentials"))
	}
	return files
}

// lookupCredentialStore finds the first line of a `git credential-store` file
// (https://user:password@host[:port][/path]) matching the endpoint's scheme and host; a line
// with a path must prefix the endpoint's path.
func lookupCredentialStore(file string, ep *transport.Endpoint) (string, string, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", false
	}
	host := ep.Host
	if ep.Port != 0 {
		host = fmt.Sprintf("%s:%d", ep.Host, ep.Port)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		u, err := url.Parse(strings.TrimSpace(sc.Text()))
		if err != nil || u.User == nil || u.Scheme != ep.Protocol || u.Host != host {
			continue
		}
		if p := strings.Trim(u.Path, "/"); p != "" && !strings.HasPrefix(strings.Trim(ep.Path, "/"), p) {
			continue
		}
		pw, _ := u.User.Password()
		return u.User.Username(), pw, true
	}
	return "", "", false
}

// lookupNetrc finds the login and password of machine host in a .netrc file.
func lookupNetrc(file, host string) (string, string, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", "", false
	}
	f := strings.Fields(string(b))
	var machine, login, password string
	found := func() bool { return machine == host && password != "" }
	for i := 0; i+1 < len(f); i += 2 {
		switch f[i] {
		case "machine":
			if found() {
				return login, password, true
			}
			machine, login, password = f[i+1], "", ""
		case "login":
			login = f[i+1]
		case "password":
			password = f[i+1]
		case "default":
			i--
		}
	}
	if found() {
		return login, password, true
	}
	return "", "", false
}

// Redact removes the password from a URL, for messages and files.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	return u.String()
}
