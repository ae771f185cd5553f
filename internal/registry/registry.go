// Package registry reads what a container image really is from its
// registry: the Postgres major its config declares, and the OS release,
// C library and ICU its filesystem holds.
//
// A Resolver reads the image config, then the layers from the top down, as
// tar streams, only until os-release and the package database of the OS
// are found, so a large image is not downloaded whole. Results are cached
// on disk by manifest digest and platform: on a later run a tag costs one
// manifest HEAD (after the /v2/ auth ping a new process makes once per
// registry), and a digest reference costs no request at all.
package registry

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/breakwater-ci/breakwater/internal/imageref"
)

// Defaults.
const (
	DefaultTimeout = 30 * time.Second
	// DefaultMaxImageBytes caps the uncompressed layer bytes read per
	// image. The files looked for sit in the base layer at worst; a
	// Postgres image is about 450 MB uncompressed.
	DefaultMaxImageBytes int64 = 2 << 30
)

// Facts is what an image says about itself. Empty fields are unknown.
type Facts struct {
	// Digest is the manifest digest the reference resolved to: for a
	// multi-platform index, the index digest.
	Digest string `json:"digest"`
	// ImageDigest is the digest of the image manifest read: Digest itself
	// unless Digest is an index, then the platform's image.
	ImageDigest string `json:"image_digest,omitempty"`
	// Platform is the platform of the image read, "linux/amd64".
	Platform string `json:"platform,omitempty"`

	// OS is os-release's ID in breakwater's terms: "debian", "ubuntu",
	// "alpine", "rhel", "amazonlinux" (from "amzn"); other IDs as they are.
	OS string `json:"os,omitempty"`
	// Release is named as the knowledge base names it: Debian by codename
	// ("bookworm"), Ubuntu by version ("22.04"), Alpine by major.minor
	// ("3.20", from /etc/alpine-release), RHEL by major ("9"), Amazon
	// Linux by version ("2023").
	Release string `json:"release,omitempty"`
	// Libc's Family follows from the OS family; its Version is read from
	// the package database: glibc from dpkg's libc6 ("2.36"), musl from
	// apk's musl ("1.2.4"). RPM databases are not read: the glibc version
	// of an RPM-based image is unknown.
	Libc imageref.Libc `json:"libc"`
	// ICU is the ICU major: dpkg's libicuNN, or apk's icu-libs.
	ICU string `json:"icu,omitempty"`

	// PostgresMajor is from the config's PG_MAJOR, or PG_VERSION's major.
	PostgresMajor   imageref.PGMajor `json:"postgres_major,omitempty"`
	PostgresVersion string           `json:"postgres_version,omitempty"` // PG_VERSION as is

	// Note says what could not be read, when something could not.
	Note string `json:"note,omitempty"`
}

// Identity turns the facts into an identity for ref. It is Known when the
// OS and the libc family are; Database when the config declares a Postgres
// major (the caller ORs in what it knows otherwise). Every fact's source
// is the registry.
func (f *Facts) Identity(ref imageref.Ref) imageref.Identity {
	id := imageref.Identity{
		Ref:           ref,
		OS:            f.OS,
		Release:       f.Release,
		Libc:          f.Libc,
		ICU:           f.ICU,
		PostgresMajor: f.PostgresMajor,
		Database:      f.PostgresMajor != 0,
		Source:        imageref.SourceRegistry,
	}
	id.Known = f.OS != "" && f.Libc.Family != ""
	id.Note = "read from the registry: " + f.Digest
	if f.Platform != "" {
		id.Note += " (" + f.Platform + ")"
	}
	if f.Note != "" {
		id.Note += "; " + f.Note
	}
	return id
}

// Resolver reads images from their registries. It is safe for concurrent
// use; it reuses registry authentication across images of a repository.
type Resolver struct {
	cacheDir      string
	keychain      authn.Keychain
	transport     http.RoundTripper
	remoteOpts    []remote.Option
	insecure      map[string]bool
	timeout       time.Duration
	platform      v1.Platform
	maxImageBytes int64

	once      sync.Once
	puller    *remote.Puller
	pullerErr error
	secrets   secrets
}

// Option configures a Resolver.
type Option func(*Resolver)

// WithCacheDir sets the cache directory; "" disables the cache.
func WithCacheDir(dir string) Option { return func(r *Resolver) { r.cacheDir = dir } }

// WithKeychain sets where registry credentials come from. The default is
// authn.DefaultKeychain: ~/.docker/config.json, or $DOCKER_CONFIG.
func WithKeychain(k authn.Keychain) Option { return func(r *Resolver) { r.keychain = k } }

// WithTransport sets the HTTP transport (tests).
func WithTransport(t http.RoundTripper) Option { return func(r *Resolver) { r.transport = t } }

// WithRemoteOptions adds go-containerregistry remote options, such as a
// retry backoff. Authentication comes from the keychain: do not pass
// remote.WithAuth.
func WithRemoteOptions(opts ...remote.Option) Option {
	return func(r *Resolver) { r.remoteOpts = append(r.remoteOpts, opts...) }
}

// WithInsecureRegistries lets the named registries ("host:port") be
// reached over plain HTTP. localhost and 127.0.0.1 are allowed anyway.
func WithInsecureRegistries(hosts ...string) Option {
	return func(r *Resolver) {
		for _, h := range hosts {
			r.insecure[h] = true
		}
	}
}

// WithTimeout bounds the time spent on one image (default 30 s); 0 means
// no bound but the caller's context.
func WithTimeout(d time.Duration) Option { return func(r *Resolver) { r.timeout = d } }

// WithPlatform sets the platform read from a multi-platform index
// (default linux/amd64).
func WithPlatform(p v1.Platform) Option { return func(r *Resolver) { r.platform = p } }

// WithMaxImageBytes caps the uncompressed layer bytes read per image. A
// scan that reaches it stops, and the files not found yet are unknown.
func WithMaxImageBytes(n int64) Option { return func(r *Resolver) { r.maxImageBytes = n } }

// DefaultCacheDir is $XDG_CACHE_HOME/breakwater/images, or
// ~/.cache/breakwater/images; "" when neither can be told.
func DefaultCacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "breakwater", "images")
	}
	if h, err := os.UserHomeDir(); err == nil && h != "" {
		return filepath.Join(h, ".cache", "breakwater", "images")
	}
	return ""
}

// New makes a Resolver.
func New(opts ...Option) *Resolver {
	r := &Resolver{
		cacheDir:      DefaultCacheDir(),
		keychain:      authn.DefaultKeychain,
		transport:     remote.DefaultTransport,
		insecure:      map[string]bool{},
		timeout:       DefaultTimeout,
		platform:      v1.Platform{OS: "linux", Architecture: "amd64"},
		maxImageBytes: DefaultMaxImageBytes,
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

func (r *Resolver) getPuller() (*remote.Puller, error) {
	r.once.Do(func() {
		opts := []remote.Option{
			remote.WithAuthFromKeychain(r.keychain),
			remote.WithPlatform(r.platform),
			remote.WithUserAgent("breakwater"),
		}
		opts = append(opts, r.remoteOpts...)
		// Innermost, so it sees the Authorization headers the auth
		// transports add: they are redacted from any error text.
		opts = append(opts, remote.WithTransport(&recordingTransport{inner: r.transport, secrets: &r.secrets}))
		r.puller, r.pullerErr = remote.NewPuller(opts...)
	})
	return r.puller, r.pullerErr
}

// Resolve reads what an image really is. ref is the reference as written:
// "postgres:16", "acme/pg@sha256:…", "localhost:5000/x:y". The error, if
// any, is an *Error naming the image and what failed.
func (r *Resolver) Resolve(ctx context.Context, ref string) (*Facts, error) {
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	parsed, err := r.parseRef(ref)
	if err != nil {
		return nil, &Error{Image: ref, Op: "parsing the reference", Kind: KindInvalid, Detail: err.Error()}
	}
	platform := r.platform.String()

	var digest string
	if d, ok := parsed.(name.Digest); ok {
		digest = d.DigestStr()
		if f := r.cacheGet(digest, platform); f != nil {
			return f, nil
		}
	}
	p, err := r.getPuller()
	if err != nil {
		return nil, &Error{Image: ref, Op: "setting up the registry client", Kind: KindOther, Detail: err.Error()}
	}
	var desc *remote.Descriptor
	if digest == "" {
		// HEAD is cheap, and Docker Hub does not count it as a pull.
		h, err := p.Head(ctx, parsed)
		if err != nil {
			if !headFallback(err) {
				return nil, r.fail(ctx, ref, parsed, "resolving the tag", err)
			}
			// A HEAD answer has no body, and some registries answer HEAD
			// badly: GET tells why, or works.
			if desc, err = p.Get(ctx, parsed); err != nil {
				return nil, r.fail(ctx, ref, parsed, "reading the manifest", err)
			}
			h = &desc.Descriptor
		}
		digest = h.Digest.String()
		if f := r.cacheGet(digest, platform); f != nil {
			return f, nil
		}
	}
	if desc == nil {
		if desc, err = p.Get(ctx, parsed.Context().Digest(digest)); err != nil {
			return nil, r.fail(ctx, ref, parsed, "reading the manifest", err)
		}
	}
	img, err := desc.Image()
	if err != nil {
		return nil, r.fail(ctx, ref, parsed, "reading the image for "+platform, err)
	}
	f, op, err := r.read(ctx, img)
	if err != nil {
		return nil, r.fail(ctx, ref, parsed, op, err)
	}
	f.Digest = digest
	r.cachePut(digest, platform, f)
	return f, nil
}

func (r *Resolver) parseRef(ref string) (name.Reference, error) {
	parsed, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if r.insecure[parsed.Context().RegistryStr()] {
		return name.ParseReference(ref, name.Insecure)
	}
	return parsed, nil
}

// headFallback says whether a failed HEAD is worth a GET: when the
// registry answered, since a HEAD answer has no body to say why; not when
// it is unreachable, nor when it is rate limiting (a GET counts as a pull).
func headFallback(err error) bool {
	var te *transport.Error
	return asError(err, &te) && te.StatusCode != http.StatusTooManyRequests
}

// read reads the config, then the layers from the top down.
func (r *Resolver) read(ctx context.Context, img v1.Image) (*Facts, string, error) {
	f := &Facts{}
	if d, err := img.Digest(); err == nil {
		f.ImageDigest = d.String()
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, "reading the image config", err
	}
	f.PostgresMajor, f.PostgresVersion = parsePGEnv(cfg.Config.Env)
	if cfg.OS != "" {
		f.Platform = cfg.Platform().String()
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, "listing the layers", err
	}
	s := newScanner(r.maxImageBytes)
	if err := s.scan(ctx, layers, enough); err != nil {
		return nil, "reading the layers", err
	}
	s.facts(f)
	return f, "", nil
}

// enough says whether the scan has decided every file the image's OS
// needs: os-release, then the package database of that OS.
func enough(s *scanner) bool {
	st, osr := s.resolveAny(pathOSRelease, pathUsrOSRelease)
	if st == pending {
		return false
	}
	fam := ""
	var rel map[string]string
	if st == found {
		rel = parseOSRelease(osr.data)
		fam = osFamily(rel["ID"])
	}
	var need [][]string
	switch fam {
	case "debian", "ubuntu":
		need = append(need, []string{pathDpkgStatus})
		if fam == "debian" && release(fam, rel, "", "") == "" {
			need = append(need, []string{pathDebianVersion})
		}
	case "alpine":
		need = append(need, []string{pathAPKInstalled, pathAPKInstalled3}, []string{pathAlpineRelease})
	case "":
		need = append(need, []string{pathDpkgStatus}, []string{pathAPKInstalled, pathAPKInstalled3},
			[]string{pathAlpineRelease}, []string{pathDebianVersion})
	}
	for _, paths := range need {
		if st, _ := s.resolveAny(paths...); st == pending {
			return false
		}
	}
	return true
}

// facts reads the files the scan found into f.
func (s *scanner) facts(f *Facts) {
	content := func(paths ...string) ([]byte, bool) {
		st, n := s.resolveAny(paths...)
		if st != found {
			return nil, false
		}
		return n.data, n.truncated
	}
	var notes []string
	defer func() { f.Note = strings.Join(notes, "; ") }()
	if s.stopped {
		notes = append(notes, "the scan stopped before reading every layer")
	}
	osrData, _ := content(pathOSRelease, pathUsrOSRelease)
	osr := parseOSRelease(osrData)
	alpineRelease, _ := content(pathAlpineRelease)
	debianVersion, _ := content(pathDebianVersion)
	f.OS = osFamily(osr["ID"])
	if f.OS == "" {
		// No os-release: the release files still tell the family.
		switch {
		case len(alpineRelease) > 0:
			f.OS = "alpine"
		case len(debianVersion) > 0:
			f.OS = "debian"
		}
	}
	if f.OS == "" {
		notes = append(notes, "no os-release in the image")
		return
	}
	f.Release = release(f.OS, osr, string(alpineRelease), string(debianVersion))
	f.Libc.Family = libcFamily(f.OS)
	switch f.OS {
	case "debian", "ubuntu":
		b, trunc := content(pathDpkgStatus)
		switch {
		case b == nil:
			notes = append(notes, "no dpkg status in the image")
		default:
			f.Libc.Version, f.ICU = parseDpkgStatus(b)
			if trunc {
				notes = append(notes, fmt.Sprintf("dpkg status read only to %d MiB", capPackageDB>>20))
			}
		}
	case "alpine":
		b, trunc := content(pathAPKInstalled, pathAPKInstalled3)
		switch {
		case b == nil:
			notes = append(notes, "no apk installed db in the image")
		default:
			f.Libc.Version, f.ICU = parseAPKInstalled(b)
			if trunc {
				notes = append(notes, fmt.Sprintf("apk installed db read only to %d MiB", capPackageDB>>20))
			}
		}
	case "rhel", "amazonlinux":
		notes = append(notes, "the RPM database is not read: the glibc version is unknown")
	}
}

// Identities adapts the Resolver to callers that work in imageref terms.
type Identities struct{ R *Resolver }

// Resolve reads ref's image and returns its identity, every fact sourced
// from the registry.
func (a Identities) Resolve(ctx context.Context, ref imageref.Ref) (imageref.Identity, error) {
	s := ref.Name
	if s == "" {
		s = ref.Raw
	} else {
		if ref.Tag != "" {
			s += ":" + ref.Tag
		}
		if ref.Digest != "" {
			s += "@" + ref.Digest
		}
	}
	f, err := a.R.Resolve(ctx, s)
	if err != nil {
		return imageref.Identity{}, err
	}
	return f.Identity(ref), nil
}
