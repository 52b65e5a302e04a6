package proxy

import (
	"net"
	"net/http"
	"strings"
)

// hostName is the request's host name without port or trailing dot, in lowercase.
func hostName(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
