package image

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Registry failures that callers can branch on with errors.Is.
var (
	ErrUnauthorized = errors.New("the registry refused the credentials")
	ErrForbidden    = errors.New("the registry denied access")
	ErrUnknownCA    = errors.New("the registry's TLS certificate is signed by an unknown authority")
	ErrUnreachable  = errors.New("the registry cannot be reached")
	ErrNotFound     = errors.New("the image does not exist")
)

// RegistryError is a registry failure with a hint on how to fix it.
type RegistryError struct {
	Registry string
	Kind     error // one of the Err* values above
	Err      error
	// Hint replaces the kind's own advice, for a caller that knows better what the registry
	// was for (a base image to pull, not a registry to push to).
	Hint string
}

func (e *RegistryError) Error() string {
	hint := e.Hint
	switch {
	case hint != "":
	default:
		hint = e.defaultHint()
	}
	return fmt.Sprintf("%s at %s: %v; %s", e.Kind, e.Registry, e.Err, hint)
}

func (e *RegistryError) defaultHint() string {
	hint := ""
	switch e.Kind {
	case ErrUnauthorized:
		hint = "log in with `docker login " + e.Registry + "` or `podman login` (pyship reads ~/.docker/config.json, $DOCKER_CONFIG and credential helpers)"
	case ErrForbidden:
		hint = "the credentials for " + e.Registry + " may not push to this repository; check the repository name and the account's permissions"
	case ErrUnknownCA:
		hint = "trust its CA by adding it to the system store or pointing SSL_CERT_FILE at it"
	case ErrUnreachable:
		hint = "check the address (--registry, [build] registry) or start a local one with `pyship registry serve`"
	case ErrNotFound:
		hint = "check the reference"
	}
	return hint
}

func (e *RegistryError) Unwrap() []error { return []error{e.Kind, e.Err} }

// classify turns a go-containerregistry error into a *RegistryError when it recognises it.
func classify(registry string, err error) error {
	if err == nil {
		return nil
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized:
			return &RegistryError{Registry: registry, Kind: ErrUnauthorized, Err: err}
		case http.StatusForbidden:
			return &RegistryError{Registry: registry, Kind: ErrForbidden, Err: err}
		case http.StatusNotFound:
			return &RegistryError{Registry: registry, Kind: ErrNotFound, Err: err}
		}
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) || strings.Contains(err.Error(), "certificate signed by unknown authority") {
		return &RegistryError{Registry: registry, Kind: ErrUnknownCA, Err: err}
	}
	var ne *net.OpError
	var dns *net.DNSError
	if errors.As(err, &ne) || errors.As(err, &dns) || strings.Contains(err.Error(), "connection refused") {
		return &RegistryError{Registry: registry, Kind: ErrUnreachable, Err: err}
	}
	return err
}
