package docker

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// frame is one frame of the multiplexed stream format.
func frame(stream byte, payload string) string {
	var hdr [8]byte
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
	return string(hdr[:]) + payload
}

func TestDemux(t *testing.T) {
	tests := []struct {
		name        string
		stream      string
		contentType string
		oneByte     bool // the reader hands out one byte a read, splitting every frame
		want        string
		wantErr     string
	}{
		{name: "stdout frame", stream: frame(1, "hello\n"), want: "hello\n"},
		{name: "stdout and stderr interleave", stream: frame(1, "a\n") + frame(2, "b\n") + frame(1, "c\n"), want: "a\nb\nc\n"},
		{name: "zero-length frame", stream: frame(1, "a") + frame(2, "") + frame(1, "b"), want: "ab"},
		{name: "only a zero-length frame", stream: frame(2, ""), want: ""},
		{name: "frames split across reads", stream: frame(1, "split ") + frame(2, "across reads\n"), oneByte: true, want: "split across reads\n"},
		{name: "stdin frame is output too", stream: frame(0, "echo"), want: "echo"},
		{name: "raw tty stream", stream: "LOG:  database system is ready\r\n", want: "LOG:  database system is ready\r\n"},
		{name: "raw stream starting with a stream byte", stream: "\x01abc", want: "\x01abc"},
		{name: "raw stream split across reads", stream: "tty output", oneByte: true, want: "tty output"},
		{name: "raw stream shorter than a header", stream: "ok", want: "ok"},
		{name: "empty", stream: "", want: ""},
		{name: "labelled multiplexed", stream: frame(1, "x"), contentType: mediaMultiplexed, want: "x"},
		{name: "labelled raw but multiplexed", stream: frame(1, "x"), contentType: "application/vnd.docker.raw-stream", want: "x"},
		{name: "truncated header", stream: frame(1, "a") + "\x01\x00\x00\x00\x00", want: "a", wantErr: "ends inside a frame header"},
		{name: "truncated payload", stream: frame(1, "a") + frame(1, "abcdef")[:10], want: "aab", wantErr: "ends 2 bytes into a 6-byte frame"},
		{name: "system error frame", stream: frame(1, "a") + frame(3, "oci runtime exec failed\n"), want: "a", wantErr: "daemon error in output stream: oci runtime exec failed"},
		{name: "unknown frame type", stream: frame(1, "a") + "\x07\x00\x00\x00\x00\x00\x00\x00", contentType: mediaMultiplexed, want: "a", wantErr: "unknown type 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.stream)
			if tt.oneByte {
				r = iotest.OneByteReader(r)
			}
			var out bytes.Buffer
			err := demux(&out, r, tt.contentType)
			if out.String() != tt.want {
				t.Errorf("output %q, want %q", out.String(), tt.want)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestTailWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		max    int
		want   string
	}{
		{name: "under the limit", writes: []string{"ab", "cd"}, max: 8, want: "abcd"},
		{name: "at the limit", writes: []string{"abcd"}, max: 4, want: "abcd"},
		{name: "many small writes", writes: strings.Split("abcdefghijkl", ""), max: 4, want: "[docker: 8 earlier bytes of output dropped]\nijkl"},
		{name: "one big write", writes: []string{"ab", "cdefghij"}, max: 4, want: "[docker: 6 earlier bytes of output dropped]\nghij"},
		{name: "trim then keep", writes: []string{"abc", "def", "ghi", "j"}, max: 3, want: "[docker: 7 earlier bytes of output dropped]\nhij"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &tailWriter{max: tt.max}
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			if got := w.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCapWriter(t *testing.T) {
	w := &capWriter{max: 5}
	if _, err := w.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	n, err := w.Write([]byte("defg"))
	if n != 2 || err != errFull || w.buf.String() != "abcde" {
		t.Errorf("Write = %d, %v, kept %q; want 2, errFull, \"abcde\"", n, err, w.buf.String())
	}
}

func TestSplitRef(t *testing.T) {
	tests := []struct {
		ref, repo, tag string
		ok             bool
	}{
		{"postgres", "postgres", "latest", true},
		{"postgres:15", "postgres", "15", true},
		{"postgres:16.4-bookworm", "postgres", "16.4-bookworm", true},
		{"library/postgres:15", "library/postgres", "15", true},
		{"docker.io/library/postgres:15-alpine", "docker.io/library/postgres", "15-alpine", true},
		{"localhost:5000/pg:15", "localhost:5000/pg", "15", true},
		{"localhost:5000/pg", "localhost:5000/pg", "latest", true},
		{"localhost:5000/team/pg", "localhost:5000/team/pg", "latest", true},
		{"postgres@sha256:abc123", "postgres", "sha256:abc123", true},
		{"postgres:15@sha256:abc123", "postgres", "sha256:abc123", true},
		{"localhost:5000/pg:15@sha256:abc123", "localhost:5000/pg", "sha256:abc123", true},
		{"localhost:5000/pg@sha256:abc123", "localhost:5000/pg", "sha256:abc123", true},
		{"", "", "", false},
		{"postgres:", "", "", false},
		{"postgres@", "", "", false},
		{":15", "", "", false},
		{"registry:5000/", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			repo, tag, ok := splitRef(tt.ref)
			if repo != tt.repo || tag != tt.tag || ok != tt.ok {
				t.Errorf("splitRef(%q) = %q, %q, %v; want %q, %q, %v", tt.ref, repo, tag, ok, tt.repo, tt.tag, tt.ok)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in   string
		want apiVersion
		ok   bool
	}{
		{"1.47", apiVersion{1, 47}, true},
		{"1.9", apiVersion{1, 9}, true},
		{"2.0", apiVersion{2, 0}, true},
		{"1", apiVersion{}, false},
		{"1.x", apiVersion{}, false},
		{"v1.47", apiVersion{}, false},
		{"1.-1", apiVersion{}, false},
	}
	for _, tt := range tests {
		got, ok := parseVersion(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseVersion(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if !(apiVersion{1, 9}).less(apiVersion{1, 30}) || (apiVersion{2, 0}).less(apiVersion{1, 47}) {
		t.Error("less compares minor versions as text")
	}
}
