package proxy

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

// Access is who may use an app through the proxy. The zero value lets everyone in.
type Access struct {
	// Hosts are the host names the app answers to (without port); a request for another
	// Host gets 404 from the proxy. Empty: any Host.
	Hosts []string `json:"hosts,omitempty"`
	// Allow are the client networks let in (CIDRs); others get 403. Empty: every client.
	Allow []string `json:"allow,omitempty"`
	// Users maps user names to bcrypt hashes for HTTP basic auth; others get 401. Empty: no
	// authentication.
	Users map[string]string `json:"users,omitempty"`
	// RateLimit is each client's (by IP address) sustained requests per second, with bursts of
	// as many; beyond it the proxy answers 429. 0: no limit.
	RateLimit int `json:"rateLimit,omitempty"`
	// Closed lets nobody in (403): the controller could not read the rules (an unreadable
	// secrets file), and an app that should be protected must not be open meanwhile.
	Closed bool `json:"closed,omitempty"`
}

// ParseUsers reads basic-auth users from htpasswd lines ("user:$2y$..."), one per line or
// separated by commas or spaces, as `htpasswd -nbB` writes them. Only bcrypt hashes are
// accepted; the error names the user, never the hash.
func ParseUsers(s string) (map[string]string, error) {
	users := map[string]string{}
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		user, hash, ok := strings.Cut(e, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("a basic-auth entry is not USER:BCRYPT-HASH (make one with `htpasswd -nbB USER PASSWORD`)")
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("the basic-auth entry of user %q is not a bcrypt hash (make one with `htpasswd -nbB USER PASSWORD`)", user)
		}
		users[user] = hash
	}
	return users, nil
}

// gate applies an Access to requests. It is built once per Reconfigure.
type gate struct {
	closed  bool // invalid rules: nobody is let in
	hosts   map[string]bool
	allow   []netip.Prefix
	users   map[string][]byte
	dummy   []byte // a hash no password matches, at the users' cost
	limit   rate.Limit
	burst   int
	mu      sync.Mutex
	clients map[netip.Addr]*client
	okMu    sync.Mutex
	ok      map[[32]byte]bool // sha256 of user:password pairs bcrypt accepted
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

// maxVerified bounds the cache of accepted passwords; maxClients the rate limiter's table.
const (
	maxVerified = 1024
	maxClients  = 100_000
)

func newGate(a Access) (*gate, error) {
	g := &gate{clients: map[netip.Addr]*client{}, ok: map[[32]byte]bool{}, closed: a.Closed}
	if len(a.Hosts) > 0 {
		g.hosts = map[string]bool{}
		for _, h := range a.Hosts {
			g.hosts[strings.ToLower(h)] = true
		}
	}
	for _, s := range a.Allow {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			addr, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("allowed network %q is no CIDR (e.g. 10.0.0.0/8) or address: %w", s, err)
			}
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		g.allow = append(g.allow, p.Masked())
	}
	if len(a.Users) > 0 {
		g.users = map[string][]byte{}
		for u, h := range a.Users {
			if _, err := bcrypt.Cost([]byte(h)); err != nil {
				return nil, fmt.Errorf("the basic-auth hash of user %q is not a bcrypt hash", u)
			}
			g.users[u] = []byte(h)
		}
		var err error
		cost, _ := bcrypt.Cost(g.users[slices.Min(slices.Collect(maps.Keys(g.users)))])
		if g.dummy, err = bcrypt.GenerateFromPassword([]byte("pyship: no such user"), cost); err != nil {
			return nil, err
		}
	}
	if a.RateLimit < 0 {
		return nil, fmt.Errorf("rate limit %d is negative", a.RateLimit)
	}
	if a.RateLimit > 0 {
		g.limit, g.burst = rate.Limit(a.RateLimit), a.RateLimit
	}
	return g, nil
}

// check returns the status and message the proxy answers a request it refuses, or 0.
// The order makes the cheap refusals first, and rate-limits before the costly bcrypt.
func (g *gate) check(r *http.Request) (int, string) {
	if g.closed {
		return http.StatusForbidden, "pyship: the app's access rules are invalid"
	}
	if g.hosts != nil {
		if !g.hosts[hostName(r)] {
			return http.StatusNotFound, "pyship: no app is served for this host name"
		}
	}
	if g.allow == nil && g.limit == 0 && g.users == nil {
		return 0, ""
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return http.StatusForbidden, "pyship: the client address is unknown"
	}
	addr := ap.Addr().Unmap()
	if g.allow != nil && !g.allowed(addr) {
		return http.StatusForbidden, "pyship: this client network is not allowed"
	}
	if g.limit > 0 && !g.take(addr) {
		return http.StatusTooManyRequests, "pyship: too many requests from this client"
	}
	if g.users != nil && !g.authenticated(r) {
		return http.StatusUnauthorized, "pyship: authentication required"
	}
	return 0, ""
}

func (g *gate) allowed(a netip.Addr) bool {
	for _, p := range g.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// take spends one of the client's tokens.
func (g *gate) take(a netip.Addr) bool {
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.clients[a]
	if c == nil {
		if len(g.clients) >= maxClients {
			// Forget clients whose bucket has been full for a while; a table of strangers
			// cannot grow without bound.
			for k, v := range g.clients {
				if now.Sub(v.seen) > time.Minute {
					delete(g.clients, k)
				}
			}
		}
		c = &client{lim: rate.NewLimiter(g.limit, g.burst)}
		g.clients[a] = c
	}
	c.seen = now
	return c.lim.AllowN(now, 1)
}

// authenticated checks basic-auth credentials; a pair bcrypt accepted once is then checked
// by its SHA-256 alone, so that bcrypt's deliberate cost is paid once per password, not per
// request.
func (g *gate) authenticated(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	hash, known := g.users[user]
	key := sha256.Sum256([]byte(user + "\x00" + pass))
	g.okMu.Lock()
	cached := g.ok[key]
	g.okMu.Unlock()
	if cached {
		return true
	}
	if !known {
		// The same work as for a known user, so timing does not tell which users exist.
		bcrypt.CompareHashAndPassword(g.dummy, []byte(pass))
		return false
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
		return false
	}
	g.okMu.Lock()
	if len(g.ok) >= maxVerified {
		clear(g.ok)
	}
	g.ok[key] = true
	g.okMu.Unlock()
	return true
}
