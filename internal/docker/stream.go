package docker

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// mediaMultiplexed is the Content-Type of a multiplexed stream on API 1.42
// and later. The daemon labels multiplexed streams "raw-stream" on older
// versions and on exec start without an Upgrade header, so only this
// positive label is believed; otherwise the stream is sniffed.
const mediaMultiplexed = "application/vnd.docker.multiplexed-stream"

// Stream types of the multiplexed format's frame header.
const (
	streamStdin     = 0
	streamStdout    = 1
	streamStderr    = 2
	streamSystemErr = 3 // the daemon's own error, for example from exec
)

const frameHeaderLen = 8

// demux copies a logs or exec stream to w: frames' payloads in order
// (stdout and stderr interleaved, as a terminal would show them) when the
// stream is multiplexed, the bytes as they are when it is a TTY's raw
// stream. A stream is multiplexed when contentType says so or when it
// starts with a stream type byte and three zero bytes.
func demux(w io.Writer, r io.Reader, contentType string) error {
	br := bufio.NewReaderSize(r, 32<<10)
	multiplexed := strings.HasPrefix(contentType, mediaMultiplexed)
	if !multiplexed {
		head, err := br.Peek(4)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		multiplexed = len(head) == 4 && head[0] <= streamSystemErr && head[1] == 0 && head[2] == 0 && head[3] == 0
	}
	if !multiplexed {
		_, err := io.Copy(w, br)
		return err
	}
	var hdr [frameHeaderLen]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return errors.New("docker: output stream ends inside a frame header")
			}
			return err
		}
		n := int64(binary.BigEndian.Uint32(hdr[4:]))
		switch hdr[0] {
		case streamStdin, streamStdout, streamStderr:
			copied, err := io.CopyN(w, br, n)
			if err != nil {
				if errors.Is(err, io.EOF) {
					return fmt.Errorf("docker: output stream ends %d bytes into a %d-byte frame", copied, n)
				}
				return err
			}
		case streamSystemErr:
			msg, err := io.ReadAll(io.LimitReader(br, min(n, maxErrorBody)))
			if err != nil {
				return err
			}
			return fmt.Errorf("docker: daemon error in output stream: %s", strings.TrimSpace(string(msg)))
		default:
			return fmt.Errorf("docker: output stream has a frame of unknown type %d", hdr[0])
		}
	}
}

// errFull stops a copy into a full capWriter.
var errFull = errors.New("docker: output limit reached")

// capWriter keeps the first max bytes written to it, then fails, so that
// the reader stops taking more from the wire.
type capWriter struct {
	buf strings.Builder
	max int
}

func (c *capWriter) Write(p []byte) (int, error) {
	room := c.max - c.buf.Len()
	if len(p) > room {
		c.buf.Write(p[:room])
		return room, errFull
	}
	return c.buf.Write(p)
}

// tailWriter keeps the last max bytes written to it and counts the rest.
// Exec output must be read to its end (the process blocks on a full pipe
// and the exit code comes after), but only its end is worth keeping: that
// is where an error is.
type tailWriter struct {
	buf     []byte
	max     int
	dropped int64
}

func (t *tailWriter) Write(p []byte) (int, error) {
	if len(p) >= t.max {
		t.dropped += int64(len(t.buf) + len(p) - t.max)
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return len(p), nil
	}
	t.buf = append(t.buf, p...)
	// Trimming only past twice max keeps the copying amortised.
	if len(t.buf) > 2*t.max {
		cut := len(t.buf) - t.max
		t.dropped += int64(cut)
		t.buf = append(t.buf[:0], t.buf[cut:]...)
	}
	return len(p), nil
}

// String returns the kept bytes, after a line saying how many were dropped
// so that a reader knows the output is not whole.
func (t *tailWriter) String() string {
	b, dropped := t.buf, t.dropped
	if len(b) > t.max {
		dropped += int64(len(b) - t.max)
		b = b[len(b)-t.max:]
	}
	if dropped == 0 {
		return string(b)
	}
	return fmt.Sprintf("[docker: %d earlier bytes of output dropped]\n", dropped) + string(b)
}
