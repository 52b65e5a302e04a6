package spec

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/prometheus/common/model"
	"github.com/pyship/pyship/internal/backup/schedule"
)

// The checks below validate one string value; they return what is wrong ("" when nothing is)
// and, when they can, a hint.

func notEmpty(s string) (string, string) {
	if strings.TrimSpace(s) == "" {
		return "must not be empty", "remove the key to use the default"
	}
	return "", ""
}

var (
	labelRE    = regexp.MustCompile(labelPattern)
	varRE      = regexp.MustCompile(varPattern)
	pythonRE   = regexp.MustCompile(pythonPattern)
	hostRE     = regexp.MustCompile(hostPattern)
	gatewayRE  = regexp.MustCompile(gatewayPattern)
	quantityRE = regexp.MustCompile(quantityPattern)
)

func isLabel(s string) bool { return labelRE.MatchString(s) }

func isVarName(s string) bool { return varRE.MatchString(s) }

func checkLabel(s string) (string, string) {
	if isLabel(s) {
		return "", ""
	}
	msg := fmt.Sprintf("must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters), got %q", s)
	if l := toLabel(s); l != "" {
		return msg, fmt.Sprintf("try %q", l)
	}
	return msg, ""
}

// toLabel makes a DNS-1123 label out of s as well as it can ("My_App" → "my-app").
func toLabel(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	l := b.String()
	if len(l) > 63 {
		l = l[:63]
	}
	return strings.Trim(l, "-")
}

func checkPython(s string) (string, string) {
	if pythonRE.MatchString(s) {
		return "", ""
	}
	return fmt.Sprintf(`must be a Python 3 version like "3.12" or "3.12.4", got %q`, s), ""
}

func checkRegistry(s string) (string, string) {
	if msg, hint := notEmpty(s); msg != "" {
		return msg, hint
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return fmt.Sprintf("must be a registry reference without a scheme, got %q", s), fmt.Sprintf("write %q", strings.TrimSuffix(s[i+3:], "/"))
	}
	if strings.ContainsAny(s, " \t") {
		return fmt.Sprintf("must be a registry reference like \"ghcr.io/acme\", got %q", s), ""
	}
	return "", ""
}

func checkURLPath(s string) (string, string) {
	if !strings.HasPrefix(s, "/") {
		return fmt.Sprintf(`must start with "/", got %q`, s), fmt.Sprintf("write %q", "/"+s)
	}
	if strings.ContainsAny(s, " \t\n") {
		return fmt.Sprintf("must not contain blanks, got %q", s), ""
	}
	return "", ""
}

// checkRelDir accepts a relative folder inside the project.
func checkRelDir(s string) (string, string) {
	switch {
	case strings.TrimSpace(s) == "":
		return "must not be empty", ""
	case strings.HasPrefix(s, "/") || strings.HasPrefix(s, `\`) || (len(s) > 1 && s[1] == ':'):
		return fmt.Sprintf("must be relative to the project folder, got the absolute path %q", s), fmt.Sprintf("write %q", strings.TrimLeft(s, `/\`))
	case cleanRel(s) == ".." || strings.HasPrefix(cleanRel(s), "../"):
		return fmt.Sprintf("must stay inside the project folder, got %q", s), ""
	case strings.Contains(s, `\`):
		return fmt.Sprintf("must use '/' as separator, got %q", s), fmt.Sprintf("write %q", strings.ReplaceAll(s, `\`, "/"))
	case cleanRel(s) == ".":
		return fmt.Sprintf("must name a folder inside the project, not the project itself, got %q", s), ""
	}
	return "", ""
}

func cleanRel(s string) string { return path.Clean(s) }

func checkWebhook(s string) (string, string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		hint := ""
		if err == nil && u.Scheme == "" && s != "" {
			hint = fmt.Sprintf("write %q", "https://"+s)
		}
		return fmt.Sprintf("must be an http or https URL, got %q", s), hint
	}
	return "", ""
}

func checkHost(s string) (string, string) {
	if len(s) <= 253 && hostRE.MatchString(s) {
		return "", ""
	}
	msg := fmt.Sprintf("must be a DNS name (lowercase letters, digits, '-' and '.', at most 253 characters), got %q", s)
	if i := strings.Index(s, "://"); i >= 0 {
		return msg, fmt.Sprintf("write the host only: %q", strings.ToLower(strings.Trim(s[i+3:], "/")))
	}
	if l := strings.ToLower(s); l != s && hostRE.MatchString(l) {
		return msg, fmt.Sprintf("write %q", l)
	}
	return msg, ""
}

func checkGateway(s string) (string, string) {
	if gatewayRE.MatchString(s) {
		return "", ""
	}
	return fmt.Sprintf("must be a Gateway as NAME or NAMESPACE/NAME (DNS-1123 labels), got %q", s), ""
}

func checkQuantity(s string) (string, string) {
	if quantityRE.MatchString(s) {
		return "", ""
	}
	msg := fmt.Sprintf("must be a Kubernetes quantity like \"500m\", \"1\", \"256Mi\" or \"1Gi\", got %q", s)
	// "512MB", "1gb": the binary unit was meant.
	t := strings.TrimSpace(s)
	if n := len(t); n > 2 && strings.EqualFold(t[n-1:], "b") {
		if fix := t[:n-2] + strings.ToUpper(t[n-2:n-1]) + "i"; quantityRE.MatchString(fix) {
			return msg, fmt.Sprintf("write %q", fix)
		}
	}
	return msg, ""
}

func checkCron(s string) (string, string) {
	if _, err := schedule.Parse(s); err != nil {
		return fmt.Sprintf("is not a valid schedule: %v", err), `write 5 fields "MINUTE HOUR DAY MONTH WEEKDAY", e.g. "0 3 * * *", or @hourly, @daily, @weekly`
	}
	return "", ""
}

func checkS3URL(s string) (string, string) {
	u, err := url.Parse(s)
	if err == nil && u.Scheme == "s3" && u.Host != "" && u.RawQuery == "" && u.Fragment == "" {
		return "", ""
	}
	hint := `write "s3://BUCKET/PREFIX"`
	if err == nil && u.Scheme == "" && s != "" {
		hint = fmt.Sprintf("write %q", "s3://"+strings.TrimPrefix(s, "/"))
	} else if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		hint = `the URL of the S3 service goes in [backup] endpoint; destination is "s3://BUCKET/PREFIX"`
	}
	return fmt.Sprintf("must be s3://BUCKET or s3://BUCKET/PREFIX, got %q", s), hint
}

func checkAgeRecipient(s string) (string, string) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "AGE-SECRET-KEY-") {
		return "is an age identity (private key), which must never be in the spec", "put its public key here (the \"public key:\" line of the identity file, or `age-keygen -y FILE`) and keep the identity on your machine"
	}
	if _, err := age.ParseX25519Recipient(t); err != nil {
		return fmt.Sprintf("must be an age public key (age1...), got %q: %v", s, err), "make a key pair with `pyship backup keygen --identity-file FILE`"
	}
	return "", ""
}

func checkSigningPublicKey(s string) (string, string) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "PYSHIP-SIGN-ED25519-SECRET:") {
		return "is the private half of a signing key, which must never be in the spec", "put its public half here (the \"public key:\" line of the key file) and give the private half to what takes backups"
	}
	enc, ok := strings.CutPrefix(t, "pyship-sign-ed25519:")
	if b, err := base64.RawURLEncoding.DecodeString(enc); !ok || err != nil || len(b) != 32 {
		return fmt.Sprintf("must be a backup signing public key (pyship-sign-ed25519: and 32 bytes in unpadded base64url), got %q", s), "make a key pair with `pyship backup keygen --signing-key-file FILE`"
	}
	return "", ""
}

// PostgresSource splits a [backup] postgres entry "NAME=VAR" or "VAR" into the source name
// (VAR in lowercase by default) and the variable holding the DSN.
func PostgresSource(s string) (name, variable string) {
	name, variable, ok := strings.Cut(s, "=")
	if !ok {
		return strings.ToLower(s), s
	}
	return name, variable
}

func checkPostgresSource(s string) (string, string) {
	name, v := PostgresSource(s)
	if strings.Contains(s, "://") || strings.Contains(v, " ") {
		return "must name the variable holding the DSN, not the DSN itself (it holds a password)", `write "db=DATABASE_URL" and put DATABASE_URL=postgres://... in the secrets file ([secrets] file)`
	}
	if !isVarName(v) {
		return fmt.Sprintf("must be NAME=VAR or VAR with VAR an environment variable name, got %q", s), `e.g. "db=DATABASE_URL"`
	}
	if name == "" || len(name) > 64 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" || name == "." || name == ".." {
		return fmt.Sprintf("source name %q must be 1-64 letters, digits, '-', '_' or '.'", name), ""
	}
	return "", ""
}

func checkNetwork(s string) (string, string) {
	if _, err := netip.ParsePrefix(s); err == nil {
		return "", ""
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return "", ""
	}
	return fmt.Sprintf("must be a CIDR or an IP address, got %q", s), `e.g. "10.0.0.0/8" or "192.0.2.7"`
}

// checkSecretName refuses credentials written where the name of their variable belongs.
func checkSecretName(s string) (string, string) {
	if strings.Contains(s, ":") || strings.Contains(s, "$") {
		return "must name the secrets-file variable holding the users, not the users themselves (their hashes do not belong in the spec)", `write "BASIC_AUTH_USERS" and put BASIC_AUTH_USERS=alice:$2y$... in the secrets file ([secrets] file)`
	}
	if !isVarName(s) {
		return fmt.Sprintf("must be an environment variable name, got %q", s), `e.g. "BASIC_AUTH_USERS"`
	}
	return "", ""
}

// checkMachinePath accepts a path on the agent's machine: absolute, or under ~/.
func checkMachinePath(s string) (string, string) {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~/") {
		return "", ""
	}
	return fmt.Sprintf("must be an absolute path (or ~/...) on the machine the agent runs on, got %q", s), ""
}

// checkEmail accepts an address of the form local@domain.
func checkEmail(s string) (string, string) {
	if local, domain, ok := strings.Cut(s, "@"); ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(s, " <>") && !strings.Contains(domain, "@") {
		return "", ""
	}
	return fmt.Sprintf("must be an email address like ops@example.com, got %q", s), ""
}

// checkHTTPSURL accepts an https URL with a host.
func checkHTTPSURL(s string) (string, string) {
	if u, err := url.Parse(s); err == nil && u.Scheme == "https" && u.Host != "" {
		return "", ""
	}
	return fmt.Sprintf("must be an https URL, got %q", s), ""
}

// checkSLOWindow accepts a Prometheus duration ("28d", "4w") from 7 to 90 days: at least the
// longest alert window (3d) several times over, at most what Prometheus keeps in practice.
func checkSLOWindow(s string) (string, string) {
	d, err := model.ParseDuration(s)
	if err != nil {
		hint := `write e.g. window = "28d" (units m, h, d, w)`
		if _, ferr := strconv.ParseFloat(s, 64); ferr == nil {
			hint = fmt.Sprintf(`add a unit: window = "%sd"`, s)
		}
		return fmt.Sprintf(`must be a duration like "28d", "30d" or "4w" (units m, h, d, w), got %q`, s), hint
	}
	if day := model.Duration(24 * time.Hour); d < 7*day || d > 90*day {
		return fmt.Sprintf("must be from 7d to 90d, got %q", s), `"28d" or "30d" are usual`
	}
	return "", ""
}
