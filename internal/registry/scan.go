package registry

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The files a scan looks for: paths inside the image, without the leading
// slash, as a layer tar names them once "./" and "/" are stripped.
const (
	pathOSRelease     = "etc/os-release"
	pathUsrOSRelease  = "usr/lib/os-release"
	pathAlpineRelease = "etc/alpine-release"
	pathDebianVersion = "etc/debian_version"
	pathAPKInstalled  = "lib/apk/db/installed"
	pathAPKInstalled3 = "usr/lib/apk/db/installed" // apk v3 and merged-/usr Alpine
	pathDpkgStatus    = "var/lib/dpkg/status"
)

// Byte caps per file: package databases can be large, release files are not.
const (
	capPackageDB   = 8 << 20
	capReleaseFile = 64 << 10
)

var wantedFiles = map[string]int64{
	pathOSRelease:     capReleaseFile,
	pathUsrOSRelease:  capReleaseFile,
	pathAlpineRelease: capReleaseFile,
	pathDebianVersion: capReleaseFile,
	pathAPKInstalled:  capPackageDB,
	pathAPKInstalled3: capPackageDB,
	pathDpkgStatus:    capPackageDB,
}

const (
	maxLinkHops = 40 // like the kernel's symlink limit
	maxRescans  = 3  // a symlink to a path not looked for yet restarts the scan
)

type kind uint8

const (
	kindDir kind = iota + 1
	kindFile
	kindLink
	kindAbsent // whited out
)

// node is the topmost visible entry at one path of the merged filesystem.
type node struct {
	kind      kind
	layer     int    // index in the image's layers, 0 = bottom
	target    string // kindLink: the path it points at, cleaned, inside the image
	data      []byte // kindFile: content, for wanted paths
	truncated bool   // data stopped at the path's byte cap
}

type state uint8

const (
	pending state = iota // lower layers may still hold it
	found
	absent
)

// errImageCap stops a scan that has read the image's byte budget.
var errImageCap = errors.New("image byte cap reached")

// scanner reads an image's layers from the top down, as an overlay
// filesystem would see them, and keeps the topmost visible entry of each
// path it looks for. Only the paths looked for and their ancestors are
// tracked, so memory stays small whatever the image holds.
type scanner struct {
	want        map[string]int64 // paths whose content is kept, with their byte caps
	interesting map[string]bool  // want and every ancestor directory
	grew        bool             // want gained a path during this pass

	top      map[string]*node
	whiteout map[string]int // path → topmost layer that whited it out
	opaque   map[string]int // dir → topmost layer that made it opaque

	// next is the highest layer not yet fully read; -1 when every layer
	// has been read. Entries of layers at or below it may still appear.
	next    int
	stopped bool // the byte cap ended the scan early: pending counts as absent

	read, maxRead int64
	layersOpened  int
}

func newScanner(maxRead int64) *scanner {
	s := &scanner{want: map[string]int64{}, interesting: map[string]bool{}, maxRead: maxRead}
	for p, c := range wantedFiles {
		s.addWant(p, c)
	}
	s.grew = false
	return s
}

func (s *scanner) addWant(p string, capBytes int64) {
	if _, ok := s.want[p]; ok {
		return
	}
	s.want[p] = capBytes
	s.grew = true
	for a := p; a != ""; a = parent(a) {
		s.interesting[a] = true
	}
	s.interesting[""] = true
}

func (s *scanner) reset(top int) {
	s.top = map[string]*node{}
	s.whiteout = map[string]int{}
	s.opaque = map[string]int{}
	s.next = top
	s.stopped = false
	s.grew = false
}

// scan reads layers (bottom first, as v1.Image.Layers gives them) from the
// top down until done says every needed file is decided.
func (s *scanner) scan(ctx context.Context, layers []v1.Layer, done func(*scanner) bool) error {
	for pass := 0; ; pass++ {
		s.reset(len(layers) - 1)
		err := s.pass(ctx, layers, done)
		if err != nil {
			return err
		}
		if !s.grew {
			return nil
		}
		if pass == maxRescans {
			// Give up on the paths found last: they stay pending, which
			// the caller reads as unknown.
			s.stopped = true
			return nil
		}
	}
}

func (s *scanner) pass(ctx context.Context, layers []v1.Layer, done func(*scanner) bool) error {
	if done(s) || s.grew {
		return nil
	}
	for k := len(layers) - 1; k >= 0; k-- {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.next = k
		stop, err := s.readLayer(k, layers[k], done)
		if errors.Is(err, errImageCap) {
			s.stopped = true
			return nil
		}
		if err != nil {
			d, _ := layers[k].Digest()
			return &layerError{digest: d.String(), err: err}
		}
		if stop {
			return nil
		}
		s.next = k - 1
		if done(s) || s.grew {
			return nil
		}
	}
	s.next = -1
	done(s) // resolving may still follow a link somewhere new
	return nil
}

type layerError struct {
	digest string
	err    error
}

func (e *layerError) Error() string { return fmt.Sprintf("reading layer %s: %v", e.digest, e.err) }
func (e *layerError) Unwrap() error { return e.err }

// readLayer reads one layer's tar stream. It reports stop when done is
// satisfied (or the want set grew) part way through, and closes the stream
// then, so the rest of the blob is never downloaded.
func (s *scanner) readLayer(k int, l v1.Layer, done func(*scanner) bool) (stop bool, err error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return false, err
	}
	defer rc.Close()
	s.layersOpened++
	tr := tar.NewReader(&countingReader{r: rc, n: &s.read, max: s.maxRead})
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		changed, err := s.entry(k, h, tr)
		if err != nil {
			return false, err
		}
		if changed && (done(s) || s.grew) {
			return true, nil
		}
	}
}

// entry applies one tar header of layer k. It reports whether anything the
// scan tracks changed.
func (s *scanner) entry(k int, h *tar.Header, body io.Reader) (bool, error) {
	name := cleanName(h.Name)
	if name == "" {
		return false, nil
	}
	dir, base := parent(name), path.Base(name)
	switch {
	case base == ".wh..wh..opq":
		changed := s.implyDirs(dir, k)
		if s.interesting[dir] && s.visible(dir, k) {
			if _, ok := s.opaque[dir]; !ok {
				s.opaque[dir] = k
				changed = true
			}
		}
		return changed, nil
	case strings.HasPrefix(base, ".wh."):
		changed := s.implyDirs(dir, k)
		t := join(dir, strings.TrimPrefix(base, ".wh."))
		if s.interesting[t] && s.visible(t, k) {
			if _, ok := s.whiteout[t]; !ok {
				s.whiteout[t] = k
			}
			if s.top[t] == nil {
				s.top[t] = &node{kind: kindAbsent, layer: k}
				changed = true
			}
		}
		return changed, nil
	}
	changed := s.implyDirs(dir, k)
	if !s.interesting[name] || s.top[name] != nil || !s.visible(name, k) {
		return changed, nil
	}
	n := &node{layer: k}
	switch h.Typeflag {
	case tar.TypeDir:
		n.kind = kindDir
	case tar.TypeSymlink:
		n.kind = kindLink
		if strings.HasPrefix(h.Linkname, "/") {
			n.target = cleanName(h.Linkname)
		} else {
			n.target = cleanName(join(dir, h.Linkname))
		}
	case tar.TypeLink:
		// A hard link names another entry of the archive from its root.
		n.kind = kindLink
		n.target = cleanName(h.Linkname)
	default:
		n.kind = kindFile
		if c, ok := s.want[name]; ok && h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(io.LimitReader(body, c+1))
			if err != nil {
				return false, err
			}
			if int64(len(b)) > c {
				b, n.truncated = b[:c], true
			}
			n.data = b
		}
	}
	s.top[name] = n
	return true, nil
}

// implyDirs records that the ancestors of an entry of layer k are
// directories in that layer, which shadows whatever lower layers hold at
// those paths (a symlink, say).
func (s *scanner) implyDirs(dir string, k int) bool {
	changed := false
	for a := dir; a != ""; a = parent(a) {
		if s.interesting[a] && s.top[a] == nil && s.visible(a, k) {
			s.top[a] = &node{kind: kindDir, layer: k}
			changed = true
		}
	}
	return changed
}

// visible says whether an entry at p in layer k shows through the layers
// read above it: no whiteout of p or an ancestor, no opaque ancestor and no
// ancestor replaced by a non-directory, in a layer above k.
func (s *scanner) visible(p string, k int) bool {
	if w, ok := s.whiteout[p]; ok && w > k {
		return false
	}
	for a := p; a != ""; {
		a = parent(a)
		if o, ok := s.opaque[a]; ok && o > k {
			return false
		}
		if a == "" {
			break
		}
		if w, ok := s.whiteout[a]; ok && w > k {
			return false
		}
		if n := s.top[a]; n != nil && n.kind != kindDir && n.layer > k {
			return false
		}
	}
	return true
}

// resolve follows p through the merged filesystem, symlinks included, and
// says whether it is a file found, absent, or still pending on lower layers.
// A symlink never leaves the image: ".." stops at the image's root.
func (s *scanner) resolve(p string) (state, *node) {
	capBytes, ok := s.want[p]
	if !ok {
		capBytes = capReleaseFile
	}
	hops := 0
walk:
	for {
		if _, ok := s.want[p]; !ok {
			// A link led somewhere the scan has not been looking: look
			// there too (the scan restarts from the top).
			s.addWant(p, capBytes)
			return s.undecided(), nil
		}
		comps := strings.Split(p, "/")
		cur := ""
		for i, c := range comps {
			at := join(cur, c)
			last := i == len(comps)-1
			n := s.top[at]
			switch {
			case n == nil:
				if s.next < 0 || !s.visible(at, s.next) {
					return absent, nil
				}
				return s.undecided(), nil
			case n.kind == kindAbsent:
				return absent, nil
			case n.kind == kindDir:
				if last {
					return absent, nil // a directory, not a file
				}
				cur = at
			case n.kind == kindFile:
				if last {
					return found, n
				}
				return absent, nil // not a directory
			case n.kind == kindLink:
				hops++
				if hops > maxLinkHops {
					return absent, nil
				}
				p = cleanName(join(n.target, strings.Join(comps[i+1:], "/")))
				if p == "" {
					return absent, nil // the root, a directory
				}
				continue walk
			}
		}
		return absent, nil
	}
}

func (s *scanner) undecided() state {
	if s.stopped {
		return absent
	}
	return pending
}

// resolveAny resolves the first of several paths that exists: a later one
// is tried only once the earlier ones are known to be absent.
func (s *scanner) resolveAny(paths ...string) (state, *node) {
	for _, p := range paths {
		st, n := s.resolve(p)
		if st != absent {
			return st, n
		}
	}
	return absent, nil
}

type countingReader struct {
	r   io.Reader
	n   *int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.max > 0 && *c.n >= c.max {
		return 0, errImageCap
	}
	if c.max > 0 && int64(len(p)) > c.max-*c.n {
		p = p[:c.max-*c.n]
	}
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// cleanName turns a tar entry name or a link target into a path relative to
// the image's root: "./etc/os-release", "/etc/os-release" and
// "etc/../etc/os-release" are all "etc/os-release", and ".." never climbs
// above the root.
func cleanName(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
}

func parent(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	if name == "" {
		return dir
	}
	return dir + "/" + name
}
