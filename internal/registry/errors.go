package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Kind sorts failures, for callers that word notices by cause.
type Kind int

// Kinds of failure.
const (
	KindOther       Kind = iota
	KindInvalid          // the reference does not parse
	KindUnreachable      // DNS, connection, TLS
	KindTimeout          // the per-image timeout or the caller's deadline
	KindCanceled         // the caller's context was canceled
	KindAuth             // the registry refused the credentials, or wants some
	KindNotFound         // no such repository, tag or digest
	KindRateLimited      // 429, TOOMANYREQUESTS
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid reference"
	case KindUnreachable:
		return "registry unreachable"
	case KindTimeout:
		return "timed out"
	case KindCanceled:
		return "canceled"
	case KindAuth:
		return "authentication failed"
	case KindNotFound:
		return "not found"
	case KindRateLimited:
		return "rate limited"
	}
	return "failed"
}

// Error is a failure to read an image. Its text names the image and what
// failed; any credential the registry echoed back is redacted, and the
// underlying error is not kept, so no credential can be reached through it.
type Error struct {
	Image  string // the reference as given
	Op     string // what failed: "resolving the tag", "reading the manifest", "reading the layers"…
	Kind   Kind
	Status int    // the HTTP status, when the registry answered
	Detail string // the underlying error's text, redacted and shortened
}

func (e *Error) Error() string {
	s := fmt.Sprintf("image %s: %s: %s", e.Image, e.Op, e.Kind)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is lets errors.Is(err, context.DeadlineExceeded) and context.Canceled
// work on a timeout or a cancellation.
func (e *Error) Is(target error) bool {
	switch e.Kind {
	case KindTimeout:
		return target == context.DeadlineExceeded
	case KindCanceled:
		return target == context.Canceled
	}
	return false
}

const maxDetail = 600

func (r *Resolver) fail(ctx context.Context, image string, ref name.Reference, op string, err error) error {
	e := &Error{Image: image, Op: op, Kind: classify(ctx, err)}
	var te *transport.Error
	if asError(err, &te) {
		e.Status = te.StatusCode
	}
	r.learnKeychainSecrets(ctx, ref)
	d := r.secrets.redact(err.Error())
	if e.Kind == KindTimeout && r.timeout > 0 && ctx.Err() != nil {
		d = fmt.Sprintf("after %s: %s", r.timeout, d)
	}
	if len(d) > maxDetail {
		d = d[:maxDetail] + "…"
	}
	e.Detail = d
	return e
}

func classify(ctx context.Context, err error) Kind {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return KindTimeout
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return KindCanceled
	}
	var te *transport.Error
	if asError(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return KindAuth
		case http.StatusNotFound:
			return KindNotFound
		case http.StatusTooManyRequests:
			return KindRateLimited
		}
		for _, d := range te.Errors {
			switch d.Code {
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return KindAuth
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
				return KindNotFound
			case transport.TooManyRequestsErrorCode:
				return KindRateLimited
			}
		}
		return KindOther
	}
	var (
		ne  net.Error
		oe  *net.OpError
		de  *net.DNSError
		ce  *tls.CertificateVerificationError
		ue  x509.UnknownAuthorityError
		rhe tls.RecordHeaderError
	)
	if asError(err, &oe) || asError(err, &de) || asError(err, &ce) || asError(err, &ue) || asError(err, &rhe) || asError(err, &ne) {
		return KindUnreachable
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "no such host", "connection reset", "server gave HTTP response to HTTPS client"} {
		if strings.Contains(msg, s) {
			return KindUnreachable
		}
	}
	return KindOther
}

func asError[T any](err error, target *T) bool { return errors.As(err, target) }

// learnKeychainSecrets adds the credentials the keychain holds for ref's
// registry to the redaction set, so that a registry echoing them back in
// an error body does not put them in a notice.
func (r *Resolver) learnKeychainSecrets(ctx context.Context, ref name.Reference) {
	if ref == nil || r.keychain == nil {
		return
	}
	a, err := authn.Resolve(ctx, r.keychain, ref.Context())
	if err != nil || a == nil || a == authn.Anonymous {
		return
	}
	c, err := authn.Authorization(ctx, a)
	if err != nil || c == nil {
		return
	}
	r.secrets.add(c.Password, c.Auth, c.IdentityToken, c.RegistryToken)
	if c.Username != "" || c.Password != "" {
		r.secrets.add(base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password)))
	}
}

// secrets are strings never to show in an error: credentials from the
// keychain and every Authorization header value sent.
type secrets struct {
	mu  sync.Mutex
	set map[string]bool
}

const minSecret = 4 // shorter strings would redact ordinary words

func (s *secrets) add(vals ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set == nil {
		s.set = map[string]bool{}
	}
	for _, v := range vals {
		if len(v) >= minSecret {
			s.set[v] = true
		}
	}
}

// addAuthorization learns an Authorization header: the whole value, its
// credential, and for Basic the decoded password.
func (s *secrets) addAuthorization(h string) {
	if h == "" {
		return
	}
	s.add(h)
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok {
		return
	}
	cred = strings.TrimSpace(cred)
	s.add(cred)
	if strings.EqualFold(scheme, "basic") {
		if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
			if _, pass, ok := strings.Cut(string(b), ":"); ok {
				s.add(pass, string(b))
			}
		}
	}
}

func (s *secrets) redact(msg string) string {
	s.mu.Lock()
	vals := make([]string, 0, len(s.set))
	for v := range s.set {
		vals = append(vals, v)
	}
	s.mu.Unlock()
	// Longest first, so a header value goes before the token inside it.
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for _, v := range vals {
		msg = strings.ReplaceAll(msg, v, "[redacted]")
	}
	return msg
}

// recordingTransport sits under the authenticating transports and learns
// the credentials they send.
type recordingTransport struct {
	inner   http.RoundTripper
	secrets *secrets
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.secrets.addAuthorization(req.Header.Get("Authorization"))
	if req.Method == http.MethodPost && req.Body != nil && req.GetBody != nil {
		// OAuth2 token exchange: the form holds a password or refresh token.
		if body, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
			body.Close()
			if form, err := url.ParseQuery(string(b)); err == nil {
				t.secrets.add(form.Get("password"), form.Get("refresh_token"))
				for _, k := range []string{"password", "refresh_token"} {
					if v := form.Get(k); v != "" {
						t.secrets.add(url.QueryEscape(v))
					}
				}
			}
		}
	}
	return t.inner.RoundTrip(req)
}
